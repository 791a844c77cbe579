"""The book's figures: clusters in 2-D, confusion after matching, image montages, ROC curves.

Every function builds a new figure and returns it (the notebooks show or save it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from ..metrics import cluster_accuracy, contingency, roc_auc, roc_curve
from ..metrics._validation import as_labels
from .style import palette

__all__ = ["scatter_clusters", "confusion_heatmap", "image_montage", "roc_curves"]


def _scatter(ax, emb: np.ndarray, groups: np.ndarray, names: Mapping | None, title: str, s: float) -> None:
    values = np.unique(groups)
    colours = palette(len(values))
    for colour, g in zip(colours, values, strict=False):
        m = groups == g
        label = names.get(g, g) if names is not None else g
        ax.scatter(emb[m, 0], emb[m, 1], s=s, color=colour, label=str(label), linewidths=0, alpha=0.8)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    if len(values) <= 20:
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small", markerscale=2.5)


def scatter_clusters(
    emb: Any,
    clusters: Any,
    labels: Any | None = None,
    *,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    s: float = 6.0,
) -> Figure:
    """2-D embedding coloured by cluster and, side by side, by true label (when given)."""
    emb = np.asarray(emb, dtype=float)
    if emb.ndim != 2 or emb.shape[1] != 2:
        raise ValueError(f"emb must have shape (n, 2), got {emb.shape}")
    clusters = as_labels(clusters, emb.shape[0], name="clusters")
    panels = 1 if labels is None else 2
    fig, axes = plt.subplots(1, panels, figsize=(6.2 * panels, 4.6), squeeze=False)
    _scatter(axes[0, 0], emb, clusters, None, "coloured by cluster", s)
    if labels is not None:
        labels = as_labels(labels, emb.shape[0], name="labels")
        names = dict(enumerate(class_names)) if class_names is not None else None
        _scatter(axes[0, 1], emb, labels, names, "coloured by true label", s)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_heatmap(
    y_true: Any, y_pred: Any, *, class_names: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """Counts of true class (rows) against cluster (columns), clusters reordered by Hungarian matching.

    Column j is the cluster matched to class j, so a good clustering shows a heavy diagonal; clusters
    without a class come last. The title gives the matched accuracy.
    """
    table, clusters, classes = contingency(y_true, y_pred)
    acc, mapping = cluster_accuracy(y_true, y_pred, return_mapping=True)
    by_class = {c: k for k, c in mapping.items()}
    order = [by_class[c] for c in classes if c in by_class]
    order += [k for k in clusters if k not in order]
    cols = [int(np.flatnonzero(clusters == k)[0]) for k in order]
    data = table[cols].T  # (classes, clusters)
    rows = [class_names[int(c)] if class_names is not None else str(c) for c in classes]
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * len(order), 0.8 + 0.5 * len(rows)))
    sns.heatmap(
        data,
        annot=data.shape[0] * data.shape[1] <= 400,
        fmt="d",
        cmap="Blues",
        cbar=False,
        ax=ax,
        xticklabels=[str(k) for k in order],
        yticklabels=rows,
    )
    ax.set_xlabel("cluster (matched order)")
    ax.set_ylabel("true class")
    ax.set_title(title or f"clusters against classes, Hungarian accuracy {acc:.3f}")
    fig.tight_layout()
    return fig


def _as_images(images: Any) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[-1] not in (3, 4)):
        raise ValueError(f"images must be (N, H, W) grey or (N, H, W, 3) colour, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        arr = np.clip(arr, 0.0, 1.0)
    elif arr.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (0..255) or float (0..1), got dtype {arr.dtype}")
    return arr


def image_montage(
    images: Any, groups: Any, *, n_per_group: int = 8, titles: Sequence[str] | Mapping | None = None, cmap: str = "gray"
) -> Figure:
    """A row of images per group (e.g. per cluster): the first `n_per_group` of each, in order.

    Grey (N, H, W) or colour (N, H, W, 3) images, uint8 or float in [0, 1]. `titles` names the rows:
    a mapping from group to name, or a sequence indexed by the group value.
    """
    arr = _as_images(images)
    groups = as_labels(groups, arr.shape[0], name="groups")
    if n_per_group < 1:
        raise ValueError(f"n_per_group must be >= 1, got {n_per_group}")
    values = np.unique(groups)
    fig, axes = plt.subplots(
        len(values), n_per_group, figsize=(0.9 * n_per_group + 1.2, 0.95 * len(values)), squeeze=False
    )
    vmax = 255 if arr.dtype == np.uint8 else 1.0
    for row, g in zip(axes, values, strict=False):
        idx = np.flatnonzero(groups == g)[:n_per_group]
        for ax, i in zip(row, list(idx) + [None] * (n_per_group - len(idx)), strict=False):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for side in ax.spines.values():
                side.set_visible(False)
            if i is not None:
                ax.imshow(arr[i], cmap=cmap if arr.ndim == 3 else None, vmin=0, vmax=vmax, interpolation="nearest")
        name = g
        if isinstance(titles, Mapping):
            name = titles.get(g, g)
        elif titles is not None and np.issubdtype(type(g), np.integer) and 0 <= int(g) < len(titles):
            name = titles[int(g)]
        row[0].set_ylabel(str(name), rotation=0, ha="right", va="center", fontsize="small")
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    return fig


def roc_curves(curves: Mapping[str, tuple[Any, Any]], *, title: str | None = None) -> Figure:
    """ROC curves of several scores on one axes, with each AUC (rank statistic) in the legend."""
    if not curves:
        raise ValueError("curves is empty: give {name: (y_true, score)}")
    fig, ax = plt.subplots(figsize=(5.2, 4.8))
    for colour, (name, (y, score)) in zip(palette(len(curves)), curves.items(), strict=False):
        fpr, tpr, _ = roc_curve(y, score)
        ax.plot(fpr, tpr, color=colour, lw=1.6, label=f"{name} (AUC {roc_auc(y, score):.3f})")
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title or "ROC curves")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig
