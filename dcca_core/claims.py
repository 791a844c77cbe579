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

__all__ = ["VERDICT_RULE", "VERDICTS", "Claim", "verdict", "claims_table"]

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
