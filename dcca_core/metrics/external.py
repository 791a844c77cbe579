"""Metrics against ground truth: Hungarian cluster accuracy, NMI, ARI and ROC AUC.

`cluster_accuracy` is the unsupervised clustering accuracy of Xie et al. 2016 (DEC, eq. 10):
max over one-to-one maps m from clusters to classes of (1/n) sum_i 1[y_i = m(c_i)], found with the
Hungarian algorithm. `roc_auc` is the Mann-Whitney U statistic divided by n_pos * n_neg, with average
ranks for ties (Hanley & McNeil 1982), i.e. the probability that a random positive outscores a random
negative, ties counting one half.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata

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


def cluster_accuracy(y_true: Any, y_pred: Any, return_mapping: bool = False):
    """Best one-to-one matching of clusters to classes (Hungarian), as a fraction of samples.

    Works with different numbers of clusters and classes: clusters left without a class count as
    wrong. With `return_mapping`, also returns {cluster: class} for the matched clusters.
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


def _binary(y_true: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a 0/1 (or boolean) target with both classes and a finite score of the same length."""
    y = as_labels(y_true, name="y_true")
    s = as_labels(score, name="score")
    same_length(y, s, ("y_true", "score"))
    if s.dtype.kind not in "biuf":
        raise ValueError(f"score must be numeric, got dtype {s.dtype}")
    values = np.unique(y)
    if not np.isin(values, [0, 1]).all():
        raise ValueError(f"y_true must hold 0/1 (or booleans), got values {values[:5].tolist()}")
    if values.size < 2:
        raise ValueError(f"y_true holds only one class ({values.tolist()}); ROC AUC needs both 0 and 1")
    return y.astype(bool), s.astype(np.float64)


def roc_auc(y_true: Any, score: Any) -> float:
    """Area under the ROC curve as the Mann-Whitney rank statistic, ties counted one half."""
    y, s = _binary(y_true, score)
    ranks = rankdata(s)  # average ranks for ties
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def roc_curve(y_true: Any, score: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct threshold (descending), starting at (0, 0)."""
    y, s = _binary(y_true, score)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]  # last index of each distinct score
    tps = np.cumsum(y)[last]
    fps = (last + 1) - tps
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    thresholds = np.r_[np.inf, s[last]]
    return fpr, tpr, thresholds
