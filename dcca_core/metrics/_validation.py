"""Input checks shared by the metrics: clear `ValueError`s that name the argument and the problem."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..utils import check_2d


def as_2d(X: Any, name: str = "X") -> torch.Tensor:
    """NumPy array or tensor → 2-D real tensor (no copy); rejects other shapes, empty and NaN/inf."""
    return check_2d(X, name)


def as_labels(labels: Any, n: int | None = None, name: str = "labels") -> np.ndarray:
    """1-D array of labels (any hashable dtype), optionally of length n."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries but X has {n} samples")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def same_length(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    """Both label arrays describe the same samples."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{names[0]} has {a.shape[0]} entries but {names[1]} has {b.shape[0]}")
    if a.shape[0] == 0:
        raise ValueError(f"{names[0]} and {names[1]} are empty")
