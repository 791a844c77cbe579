"""Sensor-series preprocessing: per-channel scaling fitted on training rows, sliding windows, window
labels, and the way back from window decisions to per-point decisions.

Conventions (used by chapter 4 and its tests):

* A series is a `(n_points, n_channels)` array in time order.
* Window `i` covers points `i*stride … i*stride + length - 1`; it *ends* at `i*stride + length - 1`.
* Windows are returned channels-first, `(n_windows, n_channels, length)`, as `torch.nn.Conv1d` wants.
* A window decides for the point it ends at (causal: it has seen only that point and its past), so
  its label is, by default, the label of its last point (`rule="last"`); point `t` takes the value
  of the most recent window ending at or before `t`, and points before the first window's end get
  none (NaN) — they are left out of scoring rather than given an invented decision.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .utils import check_2d

__all__ = ["ChannelScaler", "sliding_windows", "window_ends", "window_labels", "windows_to_points"]

WINDOW_LABEL_RULES = ("last", "any", "majority", "all")


def _as_series(X: Any, name: str = "X") -> np.ndarray:
    """A series as float64 `(n_points, n_channels)` (a 1-D series is one channel), checked by
    `utils.check_2d` (non-empty, finite)."""
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    check_2d(arr, name, layout="(n_points, n_channels) series")
    return arr


def _check_window(length: int, stride: int) -> None:
    if not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"window length must be a positive integer, got {length!r}")
    if not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"stride must be a positive integer, got {stride!r}")


class ChannelScaler:
    """Standardise each channel with the mean and standard deviation of the *training* rows only.

    A channel that is constant in the training rows keeps scale 1 (it is only centred), so a later
    change of that channel stays visible instead of dividing by zero.
    """

    def __init__(self, eps: float = 1e-12) -> None:
        self.eps = eps

    def fit(self, X: Any) -> ChannelScaler:
        arr = _as_series(X)
        self.mean_ = arr.mean(axis=0)
        std = arr.std(axis=0)
        self.constant_ = std <= self.eps
        self.scale_ = np.where(self.constant_, 1.0, std)
        self.n_channels_ = arr.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise ValueError("ChannelScaler is not fitted; call fit(X_train) first")
        arr = _as_series(X)
        if arr.shape[1] != self.n_channels_:
            raise ValueError(f"X has {arr.shape[1]} channels, the scaler was fitted on {self.n_channels_}")
        return ((arr - self.mean_) / self.scale_).astype(np.float32)

    def fit_transform(self, X: Any) -> np.ndarray:
        return self.fit(X).transform(X)


def window_ends(n_points: int, length: int, stride: int = 1) -> np.ndarray:
    """Index of the last point of every window over a series of `n_points` points."""
    _check_window(length, stride)
    if n_points < length:
        return np.empty(0, dtype=np.int64)
    return np.arange(length - 1, n_points, stride, dtype=np.int64)


def sliding_windows(X: Any, length: int, stride: int = 1) -> np.ndarray:
    """`(n_points, n_channels)` series → `(n_windows, n_channels, length)` float32 windows."""
    _check_window(length, stride)
    arr = _as_series(X)
    if arr.shape[0] < length:
        raise ValueError(f"series has {arr.shape[0]} points, fewer than the window length {length}")
    view = np.lib.stride_tricks.sliding_window_view(arr, length, axis=0)  # (n-length+1, C, length)
    return np.ascontiguousarray(view[::stride], dtype=np.float32)


def window_labels(y: Any, length: int, stride: int = 1, rule: str = "last") -> np.ndarray:
    """0/1 label of every window from point labels.

    `rule`: "last" — the label of the point the window decides for (default); "any" — anomalous if
    any point is; "majority" — if more than half are; "all" — if every point is.
    """
    if rule not in WINDOW_LABEL_RULES:
        raise ValueError(f"rule must be one of {WINDOW_LABEL_RULES}, got {rule!r}")
    flags = np.asarray(y)
    if flags.ndim != 1:
        raise ValueError(f"y must be 1-D point labels, got shape {flags.shape}")
    if not np.isin(flags, (0, 1)).all():
        raise ValueError("y must hold 0/1 labels only")
    flags = flags.astype(np.int64)
    ends = window_ends(len(flags), length, stride)
    if rule == "last":
        return flags[ends]
    counts = np.concatenate([[0], np.cumsum(flags)])
    inside = counts[ends + 1] - counts[ends + 1 - length]
    if rule == "any":
        return (inside > 0).astype(np.int64)
    if rule == "majority":
        return (2 * inside > length).astype(np.int64)
    return (inside == length).astype(np.int64)


def windows_to_points(values: Any, n_points: int, length: int, stride: int = 1) -> np.ndarray:
    """Per-window values (decisions or scores) → per-point float values; NaN before the first window ends.

    Point `t` takes the value of the most recent window ending at or before `t` (with stride 1: the
    window ending exactly at `t`, the usual SKAB Conv-AE practice).
    """
    vals = np.asarray(values, dtype=np.float64)
    ends = window_ends(n_points, length, stride)
    if vals.ndim != 1 or len(vals) != len(ends):
        raise ValueError(
            f"expected {len(ends)} window values for {n_points} points "
            f"(length={length}, stride={stride}), got shape {vals.shape}"
        )
    out = np.full(n_points, np.nan)
    if len(ends) == 0:
        return out
    which = (np.arange(n_points) - (length - 1)) // stride  # index of the latest window ended by t
    ok = np.arange(n_points) >= length - 1
    out[ok] = vals[np.minimum(which[ok], len(vals) - 1)]
    return out
