"""How the two sensor benchmarks score a detector.

* **SKAB** (outlier-detection task, waico/SKAB `core/metrics.py`, `metric="binary"`): point-wise
  TP/FP/FN/TN summed over the test parts of all runs, then F1 = TP / (TP + (FP + FN)/2),
  FAR = FP / (FP + TN) · 100 and MAR = FN / (FN + TP) · 100 (both in %). SKAB rounds to two
  decimals; we keep full precision and round only for display.
* **Tennessee Eastman** (Chiang, Russell & Braatz 2001): the fault detection rate of fault f is the
  share of its fault-active test samples that are flagged; the false-alarm rate is the share of
  normal samples that are flagged.

Points without a decision (NaN, e.g. before the first window of a run ends) are left out and
counted in `n_undecided`, never silently scored as "normal".

Every function takes one run as 1-D arrays, one entry per point (`skab_scores` also takes a list
of such runs). Labels and decisions are 0/1 flags: bool, or integers/floats exactly 0 or 1. Scores
(0.3), 2-D arrays and empty arrays raise a ValueError that names the argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["confusion_counts", "pooled_f1", "skab_scores", "detection_rates", "false_alarm_rate", "flag_everything"]


def _one_d(name: str, values: Any) -> np.ndarray:
    """`values` as a non-empty 1-D array (one entry per point), or a ValueError naming `name`."""
    a = np.asarray(values)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per point), got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    return a


def _flags(name: str, values: Any, allow_nan: bool = False) -> np.ndarray:
    """0/1 flags as float64: bool, or integers/floats exactly 0 or 1 (NaN = 'no decision' if allowed).

    Scores, probabilities (0.3) or cluster indices (2) are rejected: threshold them first.
    """
    a = _one_d(name, values)
    if a.dtype != bool and not np.issubdtype(a.dtype, np.integer) and not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"{name} must hold 0/1 flags (bool or numbers), got dtype {a.dtype}")
    f = a.astype(np.float64)
    nan = np.isnan(f)
    if nan.any() and not allow_nan:
        raise ValueError(f"{name} must hold 0/1 flags only, without NaN")
    bad = ~nan & (f != 0) & (f != 1)
    if bad.any():
        examples = ", ".join(repr(float(v)) for v in np.unique(f[bad])[:3])
        what = "0/1 flags (or NaN for 'no decision')" if allow_nan else "0/1 flags"
        raise ValueError(f"{name} must hold {what}, not scores: got {examples}; threshold the scores first")
    return f


def _same_length(names: Sequence[str], arrays: Sequence[np.ndarray]) -> None:
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        joined = " and ".join(names) if len(names) == 2 else ", ".join(names[:-1]) + " and " + names[-1]
        sep = " vs " if len(names) == 2 else ", "
        raise ValueError(f"{joined} differ in length: {sep.join(map(str, lengths))}")


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, int]:
    y = _flags("y_true", y_true)
    p = _flags("y_pred", y_pred, allow_nan=True)
    _same_length(("y_true", "y_pred"), (y, p))
    decided = ~np.isnan(p)
    return y[decided].astype(bool), p[decided].astype(bool), int((~decided).sum())


def _is_runs(y: Any) -> bool:
    """A list/tuple of per-run arrays (rather than one run given as a list of labels)."""
    return isinstance(y, (list, tuple)) and len(y) > 0 and all(np.ndim(v) == 1 for v in y)


def confusion_counts(y_true: Any, y_pred: Any) -> dict[str, int]:
    """TP, FP, FN, TN of 0/1 point decisions (NaN decisions are skipped and counted).

    `y_true` (0/1 labels) and `y_pred` (0/1 decisions, NaN = none) are 1-D arrays of the same length;
    bool or numbers exactly 0 or 1. Anything else (scores, 2-D arrays, empty arrays) is a ValueError.
    """
    y, p, undecided = _pair(y_true, y_pred)
    return {
        "tp": int((y & p).sum()),
        "fp": int((~y & p).sum()),
        "fn": int((y & ~p).sum()),
        "tn": int((~y & ~p).sum()),
        "n_undecided": undecided,
    }


def pooled_f1(tp: Any, fp: Any, fn: Any) -> Any:
    """F1 from (summed) counts, as SKAB pools them over runs: tp / (tp + (fp + fn) / 2); works
    elementwise on arrays of counts (a bootstrap's resamples)."""
    return tp / (tp + (fp + fn) / 2)


def skab_scores(y_true: Any | Sequence[Any], y_pred: Any | Sequence[Any]) -> dict[str, float]:
    """SKAB's binary scores over one run or a list of runs (counts summed over runs first).

    Returns F1 (0..1), FAR and MAR in %, and the summed counts.
    """
    if _is_runs(y_true):
        if not _is_runs(y_pred) or len(y_true) != len(y_pred):
            raise ValueError("y_true and y_pred must be lists of the same number of runs")
        pairs = list(zip(y_true, y_pred, strict=False))
    else:
        pairs = [(y_true, y_pred)]
    total = {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "n_undecided": 0}
    for i, (yt, yp) in enumerate(pairs):
        try:
            counts = confusion_counts(yt, yp)
        except ValueError as err:
            if len(pairs) == 1:
                raise
            raise ValueError(f"run {i}: {err}") from None
        for key, value in counts.items():
            total[key] += value
    tp, fp, fn, tn = total["tp"], total["fp"], total["fn"], total["tn"]
    if tp + fp + fn == 0:
        raise ValueError("no anomalous points and no alarms: F1 is undefined")
    return {
        "f1": pooled_f1(tp, fp, fn),
        "far": 100.0 * fp / (fp + tn) if fp + tn else float("nan"),
        "mar": 100.0 * fn / (fn + tp) if fn + tp else float("nan"),
        **total,
    }


def detection_rates(flagged: Any, run: Any, fault_active: Any, faults: Sequence[int] | None = None) -> dict[int, float]:
    """Fault detection rate per fault run: flagged share of its fault-active samples.

    `flagged`, `run` and `fault_active` are 1-D, one entry per test sample. `flagged` holds 0/1
    decisions (bool, or numbers exactly 0 or 1) and may hold NaN (no decision); those samples are
    left out of the share. Scores are rejected: threshold them first. `fault_active` is 0/1 too.
    """
    f = _flags("flagged", flagged, allow_nan=True)
    r = _one_d("run", run)
    a = _flags("fault_active", fault_active).astype(bool)
    _same_length(("flagged", "run", "fault_active"), (f, r, a))
    faults = sorted(set(r[a].tolist())) if faults is None else list(faults)
    rates = {}
    for fault in faults:
        sel = (r == fault) & a & ~np.isnan(f)
        if not sel.any():
            raise ValueError(f"fault {fault} has no fault-active samples with a decision")
        rates[int(fault)] = float(f[sel].mean())
    return rates


def false_alarm_rate(flagged: Any, normal: Any | None = None) -> float:
    """Share of normal samples that are flagged (all samples when `normal` is None).

    `flagged` is 1-D 0/1 decisions (NaN = no decision, left out); `normal` a 1-D 0/1 or bool mask of
    the same length.
    """
    f = _flags("flagged", flagged, allow_nan=True)
    if normal is None:
        sel = np.ones(len(f), bool)
    else:
        sel = _flags("normal", normal).astype(bool)
        _same_length(("flagged", "normal"), (f, sel))
    sel &= ~np.isnan(f)
    if not sel.any():
        raise ValueError("no normal samples with a decision")
    return float(f[sel].mean())


def flag_everything(y_true: Any | Sequence[Any]) -> dict[str, float]:
    """SKAB scores of the detector that flags every point (the F1 any detector must beat)."""
    if _is_runs(y_true):
        return skab_scores(list(y_true), [np.ones(len(np.asarray(y))) for y in y_true])
    return skab_scores(y_true, np.ones(len(np.asarray(y_true))))
