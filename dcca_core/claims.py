"""Claims against published figures: one verdict rule for the whole book, and the table that
closes every chapter (claim | published | ours | verdict | why).

The rule (`VERDICT_RULE`): with the tolerance τ = max(`min_tolerance`, 2·sd over seeds), ours is
"reproduced" within τ of the published figure, "exceeded" when better by τ or more, "partly"
when worse by less than 3τ, and "not reproduced" when worse by 3τ or more. "Better" is higher for
accuracies, NMI and AUC, lower for false-alarm rates. One seed gives sd = 0, so τ is the minimum.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = [
    "VERDICT_RULE",
    "VERDICTS",
    "KINDS",
    "verdict",
    "metric_verdict",
    "percent_metric",
    "reference_kind",
    "seeds_of",
    "metric_seeds",
    "seeds_text",
    "claims_from_record",
]

VERDICTS = ("exceeded", "reproduced", "partly", "not reproduced")
VERDICT_RULE = (
    "Verdicts compare our mean over seeds with the published figure, with a tolerance τ = max(1 point, "
    "2 × the standard deviation over our seeds, ddof = 1): **reproduced** within τ; **exceeded** when better "
    "by τ or more; **partly** when worse by less than 3τ; **not reproduced** when worse by 3τ or more. "
    "Better means higher for accuracy, NMI, ARI, AUC, F1 and detection rates, lower for false-alarm and "
    "missed-alarm rates and losses. For figures on another scale (silhouette, Dunn index, losses, counts) "
    "the 1 point becomes 10 % of the published value."
)


def verdict(
    ours: float, sd: float, published: float, *, higher_is_better: bool = True, min_tolerance: float = 0.01
) -> str:
    """The book's verdict for one claim (see the module docstring); values as fractions."""
    if not all(math.isfinite(v) for v in (ours, sd, published)) or sd < 0 or min_tolerance <= 0:
        raise ValueError(
            f"need finite ours, sd ≥ 0, published and min_tolerance > 0; got {ours}, {sd}, {published}, {min_tolerance}"
        )
    tol = max(min_tolerance, 2.0 * sd)
    gain = (ours - published) if higher_is_better else (published - ours)
    if gain >= tol:
        return "exceeded"
    if gain > -tol:
        return "reproduced"
    if gain > -3.0 * tol:
        return "partly"
    return "not reproduced"


# ---- claims read off a chapter's results record (the chapters' closing tables and the scoreboard) ----

KINDS = {"published": "", "other method": "another method's figure", "target": "a target, not a published figure"}
_FRACTION_PARTS = ("acc", "accuracy", "nmi", "ari", "auc", "f1", "fdr")
_LOWER_IS_BETTER = ("far", "mar", "loss")


def seeds_of(record: dict) -> list[int]:
    """The seeds a record's numbers come from: seed, seed+1, ... (n_seeds in its params)."""
    seed = record.get("seed", 0)
    n = (record.get("params") or {}).get("n_seeds") or 1
    try:
        return list(range(int(seed), int(seed) + int(n)))
    except (TypeError, ValueError):
        return []


def metric_seeds(record: dict, metric: str) -> list[int]:
    """The seeds behind one metric: the record's `metric_seeds[metric]` where the chapter wrote one
    (a one-seed ablation or data set; [] for a figure no seed changes), else every seed of the record."""
    per_metric = record.get("metric_seeds") or {}
    if metric not in per_metric:
        return seeds_of(record)
    try:
        return [int(s) for s in per_metric[metric]]
    except (TypeError, ValueError):
        raise ValueError(f"metric_seeds[{metric!r}] must be a list of seeds, got {per_metric[metric]!r}") from None


def seeds_text(seeds: list[int]) -> str:
    """The seeds as a table shows them: "0, 1, 2", or "none (deterministic)" for a figure no seed changes."""
    return ", ".join(str(s) for s in seeds) if seeds else "none (deterministic)"


def reference_kind(published: dict) -> str:
    """ "published" (a citable figure of the same method), "other method" or "target": the entry's
    `kind`, else read from its source text (older records carry none)."""
    kind = published.get("kind")
    if kind in KINDS:
        return str(kind)
    source = str(published.get("source", "")).lower()
    if "different method" in source or "best entry" in source:
        return "other method"
    if "quoted in issue" in source or "target" in source or source.startswith("≈"):
        return "target"
    return "published"


def percent_metric(metric: str) -> bool:
    """False-alarm and missed-alarm rates are kept in % by the chapters; the rest are fractions."""
    return any(part in ("far", "mar") for part in metric.split("_"))


def metric_verdict(metric: str, ours: float, sd: float, published: float) -> str:
    """`verdict` with the metric's own scale and direction (VERDICT_RULE): rates and scores in
    [0, 1] get 1 point; FAR/MAR (in %) 1 point of 100; other figures 10 % of the published value."""
    parts = metric.split("_")
    higher = not any(p in _LOWER_IS_BETTER for p in parts)
    div = 100.0 if percent_metric(metric) else 1.0
    fraction = percent_metric(metric) or any(p in _FRACTION_PARTS for p in parts)
    tol = 0.01 if fraction else max(0.1 * abs(published / div), 1e-12)
    return verdict(ours / div, sd / div, published / div, higher_is_better=higher, min_tolerance=tol)


def claims_from_record(record: dict, why: dict[str, str] | None = None) -> pd.DataFrame:
    """The chapter's closing table from its results record: one row per published figure it measured
    (claim = metric, source, published, ours as mean ± sd over its own seeds with ddof 1 — "±" only with
    two or more —, those seeds, verdict by VERDICT_RULE — "—" for other methods' figures and targets —
    and why, from `why` by metric name)."""
    metrics, published = record.get("metrics") or {}, record.get("published") or {}
    smoke = record.get("profile") == "smoke"  # small subsets, few epochs: no test of any claim
    rows = []
    for metric, entry in published.items():
        ours = metrics.get(metric)
        if not isinstance(entry, dict) or not isinstance(ours, (int, float)) or isinstance(ours, bool):
            continue
        seeds = metric_seeds(record, metric)
        sd = metrics.get(f"{metric}_std")
        spread = len(seeds) > 1 and isinstance(sd, (int, float)) and math.isfinite(sd)
        sd = float(sd) if spread else 0.0  # one seed (or none): no spread to widen the tolerance
        kind = reference_kind(entry)
        unit = " %" if percent_metric(metric) else ""
        value = float(entry["value"])
        rows.append(
            {
                "claim": metric,
                "source": str(entry.get("source", "")),
                "published": f"{value:.4g}{unit}" + (f" ({KINDS[kind]})" if KINDS.get(kind) else ""),
                "ours": f"{float(ours):.4g}" + (f" ± {sd:.2g}" if spread else "") + unit,
                "seeds": seeds_text(seeds),
                "verdict": "(smoke run)"
                if smoke
                else metric_verdict(metric, float(ours), sd, value)
                if kind == "published"
                else "—",
                "why": "the smoke profile tests the pipeline, not the claim" if smoke else (why or {}).get(metric, ""),
            }
        )
    return pd.DataFrame(rows, columns=["claim", "source", "published", "ours", "seeds", "verdict", "why"])
