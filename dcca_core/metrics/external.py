"""Metrics against ground truth: Hungarian cluster accuracy, NMI, ARI and ROC AUC.

`cluster_accuracy` is the unsupervised clustering accuracy of Xie et al. 2016 (DEC, eq. 10):
max over one-to-one maps m from clusters to classes of (1/n) sum_i 1[y_i = m(c_i)], found with the
Hungarian algorithm. `roc_auc` is the Mann-Whitney U statistic divided by n_pos * n_neg, with average
ranks for ties (Hanley & McNeil 1982), i.e. the probability that a random positive outscores a random
negative, ties counting one half.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata
from sklearn.exceptions import UndefinedMetricWarning

from ._validation import as_labels, same_length

__all__ = ["contingency", "cluster_accuracy", "nmi", "ari", "roc_auc", "roc_curve"]


def contingency(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts (n_clusters, n_classes) of each predicted cluster against each true class.

    Returns the matrix, the sorted cluster labels (rows) and the sorted class labels (columns).
    """
    t = as_labels(y_true, name="y_true")
    p = as_labels(y_pred, name="y_pred")
    same_length(t, p, ("y_true", "y_pred"))
    classes, ti = np.unique(t, return_inverse=True)
    clusters, pi = np.unique(p, return_inverse=True)
    table = np.zeros((clusters.size, classes.size), dtype=np.int64)
    np.add.at(table, (pi, ti), 1)
    return table, clusters, classes


def cluster_accuracy(y_true: Any, y_pred: Any, *, return_mapping: bool = False):
    """Best one-to-one matching of clusters to classes (Hungarian), as a fraction of samples.

    Works with different numbers of clusters and classes: clusters left without a class count as
    wrong. With `return_mapping` (keyword-only, so that a positional third argument cannot change
    the return type), also returns {cluster: class} for the matched clusters.
    """
    table, clusters, classes = contingency(y_true, y_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    acc = float(table[rows, cols].sum()) / float(table.sum())
    if not return_mapping:
        return acc
    mapping = {clusters[r].item(): classes[c].item() for r, c in zip(rows, cols, strict=False)}
    return acc, mapping


def nmi(y_true: Any, y_pred: Any) -> float:
    """Normalised mutual information (arithmetic normalisation, sklearn's default)."""
    from sklearn.metrics import normalized_mutual_info_score

    t, p = as_labels(y_true, name="y_true"), as_labels(y_pred, name="y_pred")
    same_length(t, p, ("y_true", "y_pred"))
    return float(normalized_mutual_info_score(t, p))


def ari(y_true: Any, y_pred: Any) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985)."""
    from sklearn.metrics import adjusted_rand_score

    t, p = as_labels(y_true, name="y_true"), as_labels(y_pred, name="y_pred")
    same_length(t, p, ("y_true", "y_pred"))
    return float(adjusted_rand_score(t, p))


def _binary(
    y_true: Any, score: Any, sample_weight: Any, pos_label: Any, strict: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Positive mask, float64 score and weights (None: unweighted) of a binary target, as sklearn.

    Labels may be any two values: {0, 1}, {-1, 1} and booleans need no `pos_label`; with other labels
    `pos_label` names the positive class (with `strict=False`, as sklearn's roc_auc_score, the larger
    of the two sorted labels is positive).
    """
    y = as_labels(y_true, name="y_true")
    s = as_labels(score, name="score")
    same_length(y, s, ("y_true", "score"))
    if s.dtype.kind not in "biuf":
        raise ValueError(f"score must be numeric, got dtype {s.dtype}")
    values = np.unique(y)
    if values.size > 2:
        raise ValueError(f"y_true must be binary, got {values.size} classes: {values[:5].tolist()}")
    if pos_label is None:
        if values.dtype.kind in "biuf" and (np.isin(values, [0, 1]).all() or np.isin(values, [-1, 1]).all()):
            pos_label = 1
        elif not strict and values.size == 2:
            pos_label = values[-1]
        else:
            raise ValueError(
                f"y_true takes value in {set(values.tolist())} and pos_label is not specified: either make y_true "
                "take value in {0, 1} or {-1, 1} or pass pos_label explicitly"
            )
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.shape != y.shape:
            raise ValueError(f"sample_weight has shape {w.shape} but y_true has {y.shape}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("sample_weight must be finite and >= 0")
    return y == pos_label, s.astype(np.float64), w


def _one_class(pos: np.ndarray, w: np.ndarray | None) -> bool:
    """True (with sklearn's UndefinedMetricWarning) when only one class has weight."""
    wp = pos.sum() if w is None else w[pos].sum()
    wn = (~pos).sum() if w is None else w[~pos].sum()
    if wp > 0 and wn > 0:
        return False
    warnings.warn(
        "Only one class is present in y_true. ROC AUC score is not defined in that case.",
        UndefinedMetricWarning,
        stacklevel=3,
    )
    return True


def roc_auc(y_true: Any, score: Any, *, sample_weight: Any = None, pos_label: Any = None) -> float:
    """Area under the ROC curve: the Mann-Whitney rank statistic, ties counted one half (NaN with one class).

    Unweighted, from average ranks; weighted, as the trapezoidal area under the weighted curve (the
    same statistic with weighted pairs), as sklearn's roc_auc_score.
    """
    y, s, w = _binary(y_true, score, sample_weight, pos_label, strict=False)
    if _one_class(y, w):
        return float("nan")
    if w is None:
        ranks = rankdata(s)  # average ranks for ties
        n_pos = int(y.sum())
        n_neg = y.size - n_pos
        u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
        return float(u / (n_pos * n_neg))
    fps, tps, _ = _counts(y, s, w)
    fpr, tpr = np.r_[0.0, fps / fps[-1]], np.r_[0.0, tps / tps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def _counts(y: np.ndarray, s: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive (weights) at every distinct threshold, descending, with the thresholds."""
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]  # last index of each distinct score
    if w is None:
        tps = np.cumsum(y)[last]
        fps = (last + 1) - tps
    else:
        w = w[order]
        tps = np.cumsum(y * w)[last]
        fps = np.cumsum(~y * w)[last]
    return fps.astype(np.float64), tps.astype(np.float64), s[last]


def roc_curve(
    y_true: Any,
    score: Any,
    *,
    pos_label: Any = None,
    sample_weight: Any = None,
    drop_intermediate: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct threshold (descending), starting at (0, 0).

    As sklearn's roc_curve, except that `drop_intermediate` defaults to False (every threshold, as
    this function always gave); True drops the points on straight stretches, as sklearn does. With one
    class the other rate is NaN, with sklearn's UndefinedMetricWarning.
    """
    y, s, w = _binary(y_true, score, sample_weight, pos_label, strict=True)
    fps, tps, thr = _counts(y, s, w)
    if drop_intermediate and fps.size > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        fps, tps, thr = fps[keep], tps[keep], thr[keep]
    with np.errstate(invalid="ignore", divide="ignore"):
        if fps[-1] <= 0:
            warnings.warn(
                "No negative samples in y_true, false positive value should be meaningless",
                UndefinedMetricWarning,
                stacklevel=2,
            )
        if tps[-1] <= 0:
            warnings.warn(
                "No positive samples in y_true, true positive value should be meaningless",
                UndefinedMetricWarning,
                stacklevel=2,
            )
        fpr = np.r_[0.0, fps] / fps[-1] if fps[-1] > 0 else np.full(fps.size + 1, np.nan)
        tpr = np.r_[0.0, tps] / tps[-1] if tps[-1] > 0 else np.full(tps.size + 1, np.nan)
    return fpr, tpr, np.r_[np.inf, thr]
