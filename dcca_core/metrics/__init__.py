"""Clustering metrics: internal (silhouette, Dunn) and against ground truth (accuracy, NMI, ARI, AUC)."""

from .dunn import classic_extremes, dunn_index
from .external import ari, cluster_accuracy, contingency, nmi, roc_auc, roc_curve
from .silhouette import silhouette_samples, silhouette_score

__all__ = [
    "silhouette_score",
    "silhouette_samples",
    "dunn_index",
    "classic_extremes",
    "cluster_accuracy",
    "contingency",
    "nmi",
    "ari",
    "roc_auc",
    "roc_curve",
]
