"""Anomaly scores, detectors and their evaluation (cluster scores, PCA monitoring, SKAB/TEP metrics)."""
