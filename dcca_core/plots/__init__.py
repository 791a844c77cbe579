"""Figures for the book, all in one style; every function returns a matplotlib Figure.

`embed_2d` gives 2-D coordinates (t-SNE or UMAP); sensor-series figures live in `plots.sensors`.
"""

from .embedding import embed_2d
from .figures import confusion_heatmap, image_montage, roc_curves, scatter_clusters
from .sensors import anomaly_intervals, fault_onset_traces, sensor_traces
from .style import palette, set_style

__all__ = [
    "set_style",
    "palette",
    "embed_2d",
    "scatter_clusters",
    "confusion_heatmap",
    "image_montage",
    "roc_curves",
    "sensor_traces",
    "fault_onset_traces",
    "anomaly_intervals",
]
