"""Clustering: a from-scratch, device-agnostic KMeans with sklearn's API."""

from .kmeans import ConvergenceWarning, KMeans, check_random_state, kmeans_plusplus

__all__ = ["KMeans", "kmeans_plusplus", "check_random_state", "ConvergenceWarning"]
