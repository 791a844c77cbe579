"""Clustering: a from-scratch, device-agnostic KMeans that is a scikit-learn estimator.

`kmeans` holds the estimator, `_seeding` the random stream and k-means++, `_kernels` the Lloyd
iterations with their exact pruning layers, `_distributed` the row-shard all-reduces.
"""

from ._seeding import check_random_state, kmeans_plusplus
from .kmeans import ConvergenceWarning, KMeans

__all__ = ["KMeans", "kmeans_plusplus", "check_random_state", "ConvergenceWarning", "KMEANS_CODE"]

# Every module whose source can change what KMeans returns: training code that starts from KMeans
# puts them in its checkpoint keys, so a change in the seeding or the Lloyd kernels retrains.
KMEANS_CODE = (
    "dcca_core.cluster.kmeans",
    "dcca_core.cluster._seeding",
    "dcca_core.cluster._kernels",
    "dcca_core.cluster._distributed",
)
