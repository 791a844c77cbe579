"""Claims against published figures: one verdict rule for the whole book, and the table that
closes every chapter (claim | published | ours | verdict | why).

The rule (`VERDICT_RULE`): with the tolerance τ = max(`min_tolerance`, 2·sd over seeds), ours is
"reproduced" within τ of the published figure, "exceeded" when better by τ or more, "partly"
when worse by less than 3τ, and "not reproduced" when worse by 3τ or more. "Better" is higher for
accuracies, NMI and AUC, lower for false-alarm rates. One seed gives sd = 0, so τ is the minimum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from .utils import mean_sd

__all__ = [
    "VERDICT_RULE",
    "VERDICTS",
    "KINDS",
    "Claim",
    "verdict",
    "claims_table",
    "metric_verdict",
    "percent_metric",
    "reference_kind",
    "seeds_of",
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


@dataclass(frozen=True)
class Claim:
    """One published figure a chapter tests: what, where (paper, table), the value, and our runs."""

    claim: str
    source: str
    published: float
    ours: Sequence[float]
    why: str = ""
    higher_is_better: bool = True
    percent: bool = True  # shown as % (fractions in, percentages out)


def _fmt(value: float, sd: float | None, n: int, percent: bool) -> str:
    scale, unit = (100.0, " %") if percent else (1.0, "")
    digits = 1 if percent else 3
    text = f"{value * scale:.{digits}f}"
    if sd is not None and n > 1:
        text += f" ± {sd * scale:.{digits}f}"
    return text + unit


def claims_table(claims: Iterable[Claim]) -> pd.DataFrame:
    """The chapter's closing table: claim | source | published | ours (mean ± sd over n seeds, ddof 1;
    "±" only when n > 1) | n | verdict | why."""
    rows = []
    for c in claims:
        values = [float(v) for v in c.ours if v is not None and math.isfinite(float(v))]
        summary = mean_sd(values)
        mean, n = summary.mean, summary.n
        sd = summary.sd if n > 1 else 0.0  # one seed: no spread to widen the tolerance
        rows.append(
            {
                "claim": c.claim,
                "source": c.source,
                "published": _fmt(c.published, None, 1, c.percent),
                "ours": _fmt(mean, sd, n, c.percent),
                "seeds": n,
                "verdict": verdict(mean, sd, c.published, higher_is_better=c.higher_is_better),
                "why": c.why,
            }
        )
    return pd.DataFrame(rows, columns=["claim", "source", "published", "ours", "seeds", "verdict", "why"])


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
    (claim = metric, source, published, ours as mean ± sd over its seeds with ddof 1, seeds, verdict by
    VERDICT_RULE — "—" for other methods' figures and targets — and why, from `why` by metric name)."""
    metrics, published = record.get("metrics") or {}, record.get("published") or {}
    n = max(1, len(seeds_of(record)))
    smoke = record.get("profile") == "smoke"  # small subsets, few epochs: no test of any claim
    rows = []
    for metric, entry in published.items():
        ours = metrics.get(metric)
        if not isinstance(entry, dict) or not isinstance(ours, (int, float)) or isinstance(ours, bool):
            continue
        sd = metrics.get(f"{metric}_std")
        sd = float(sd) if n > 1 and isinstance(sd, (int, float)) and math.isfinite(sd) else 0.0
        kind = reference_kind(entry)
        unit = " %" if percent_metric(metric) else ""
        value = float(entry["value"])
        rows.append(
            {
                "claim": metric,
                "source": str(entry.get("source", "")),
                "published": f"{value:.4g}{unit}" + (f" ({KINDS[kind]})" if KINDS.get(kind) else ""),
                "ours": f"{float(ours):.4g}" + (f" ± {sd:.2g}" if n > 1 else "") + unit,
                "seeds": n,
                "verdict": "(smoke run)"
                if smoke
                else metric_verdict(metric, float(ours), sd, value)
                if kind == "published"
                else "—",
                "why": "the smoke profile tests the pipeline, not the claim" if smoke else (why or {}).get(metric, ""),
            }
        )
    return pd.DataFrame(rows, columns=["claim", "source", "published", "ours", "seeds", "verdict", "why"])
