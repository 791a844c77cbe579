"""Clustering: a from-scratch, device-agnostic KMeans that is a scikit-learn estimator.

`kmeans` holds the estimator, `_seeding` the random stream and k-means++, `_kernels` the Lloyd
iterations with their exact pruning layers, `_distributed` the row-shard all-reduces.
"""

from ._seeding import check_random_state, kmeans_plusplus
from .kmeans import ConvergenceWarning, KMeans

__all__ = ["KMeans", "kmeans_plusplus", "check_random_state", "ConvergenceWarning"]
