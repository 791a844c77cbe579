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
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["confusion_counts", "skab_scores", "detection_rates", "false_alarm_rate", "flag_everything"]


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, int]:
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y.shape[0]} vs {p.shape[0]}")
    if np.isnan(y).any() or not np.isin(y, (0, 1)).all():
        raise ValueError("y_true must hold 0/1 labels only")
    decided = ~np.isnan(p)
    if not np.isin(p[decided], (0, 1)).all():
        raise ValueError("y_pred must hold 0/1 decisions (or NaN for 'no decision')")
    return y[decided].astype(bool), p[decided].astype(bool), int((~decided).sum())


def _is_runs(y: Any) -> bool:
    """A list/tuple of per-run arrays (rather than one run given as a list of labels)."""
    return isinstance(y, (list, tuple)) and len(y) > 0 and all(np.ndim(v) == 1 for v in y)


def confusion_counts(y_true: Any, y_pred: Any) -> dict[str, int]:
    """TP, FP, FN, TN of 0/1 point decisions (NaN decisions are skipped and counted)."""
    y, p, undecided = _pair(y_true, y_pred)
    return {"tp": int((y & p).sum()), "fp": int((~y & p).sum()), "fn": int((y & ~p).sum()),
            "tn": int((~y & ~p).sum()), "n_undecided": undecided}


def skab_scores(y_true: Any | Sequence[Any], y_pred: Any | Sequence[Any]) -> dict[str, float]:
    """SKAB's binary scores over one run or a list of runs (counts summed over runs first).

    Returns F1 (0..1), FAR and MAR in %, and the summed counts.
    """
    if _is_runs(y_true):
        if not _is_runs(y_pred) or len(y_true) != len(y_pred):
            raise ValueError("y_true and y_pred must be lists of the same number of runs")
        pairs = list(zip(y_true, y_pred))
    else:
        pairs = [(y_true, y_pred)]
    total = {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "n_undecided": 0}
    for yt, yp in pairs:
        for key, value in confusion_counts(yt, yp).items():
            total[key] += value
    tp, fp, fn, tn = total["tp"], total["fp"], total["fn"], total["tn"]
    if tp + fp + fn == 0:
        raise ValueError("no anomalous points and no alarms: F1 is undefined")
    return {"f1": tp / (tp + (fp + fn) / 2), "far": 100.0 * fp / (fp + tn) if fp + tn else float("nan"),
            "mar": 100.0 * fn / (fn + tp) if fn + tp else float("nan"), **total}


def detection_rates(flagged: Any, run: Any, fault_active: Any, faults: Sequence[int] | None = None) -> dict[int, float]:
    """Fault detection rate per fault run: flagged share of its fault-active samples.

    `flagged` may hold NaN (no decision); those samples are left out of the share.
    """
    f = np.asarray(flagged, dtype=np.float64).ravel()
    r = np.asarray(run).ravel()
    a = np.asarray(fault_active).astype(bool).ravel()
    if not (len(f) == len(r) == len(a)):
        raise ValueError(f"flagged, run and fault_active differ in length: {len(f)}, {len(r)}, {len(a)}")
    faults = sorted(set(r[a].tolist())) if faults is None else list(faults)
    rates = {}
    for fault in faults:
        sel = (r == fault) & a & ~np.isnan(f)
        if not sel.any():
            raise ValueError(f"fault {fault} has no fault-active samples with a decision")
        rates[int(fault)] = float(f[sel].mean())
    return rates


def false_alarm_rate(flagged: Any, normal: Any | None = None) -> float:
    """Share of normal samples that are flagged (all samples when `normal` is None)."""
    f = np.asarray(flagged, dtype=np.float64).ravel()
    sel = np.ones(len(f), bool) if normal is None else np.asarray(normal).astype(bool).ravel()
    if len(sel) != len(f):
        raise ValueError(f"flagged and normal differ in length: {len(f)} vs {len(sel)}")
    sel &= ~np.isnan(f)
    if not sel.any():
        raise ValueError("no normal samples with a decision")
    return float(f[sel].mean())


def flag_everything(y_true: Any | Sequence[Any]) -> dict[str, float]:
    """SKAB scores of the detector that flags every point (the F1 any detector must beat)."""
    if _is_runs(y_true):
        return skab_scores(list(y_true), [np.ones(len(np.asarray(y))) for y in y_true])
    return skab_scores(y_true, np.ones(len(np.asarray(y_true))))
