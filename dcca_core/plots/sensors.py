"""Figures for multichannel sensor series: traces with anomaly intervals shaded (SKAB) and process
variables around a fault onset (Tennessee Eastman)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["anomaly_intervals", "sensor_traces", "fault_onset_traces"]


def anomaly_intervals(mask: Sequence[int] | np.ndarray) -> list[tuple[int, int]]:
    """Contiguous runs of a 0/1 mask as half-open (start, stop) index pairs."""
    flags = np.asarray(mask).astype(bool).astype(np.int8)
    if flags.ndim != 1:
        raise ValueError(f"mask must be 1-D, got shape {flags.shape}")
    edges = np.diff(np.concatenate([[0], flags, [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=False))


def sensor_traces(
    frame: pd.DataFrame,
    channels: Sequence[str] | None = None,
    *,
    label: str = "anomaly",
    predicted: Sequence[int] | np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """One panel per channel against time; true anomaly intervals shaded, predicted ones marked below."""
    channels = list(channels) if channels is not None else [c for c in frame.columns if c not in (label, "changepoint")]
    missing = [c for c in channels + ([label] if label in frame else []) if c not in frame]
    if missing or not channels:
        raise ValueError(f"frame lacks columns {missing or channels}; it has {list(frame.columns)}")
    if predicted is not None and len(predicted) != len(frame):
        raise ValueError(f"predicted has {len(predicted)} values for {len(frame)} rows")
    t = np.arange(len(frame))
    fig, axes = plt.subplots(len(channels), 1, figsize=(10, 1.3 * len(channels) + 0.6), sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], channels, strict=False):
        ax.plot(t, frame[name].to_numpy(), lw=0.7, color="0.2")
        ax.set_ylabel(name, rotation=0, ha="right", fontsize=8)
        if label in frame:
            for start, stop in anomaly_intervals(frame[label].to_numpy()):
                ax.axvspan(start, stop, color="tab:red", alpha=0.15, lw=0)
        if predicted is not None:
            hits = np.flatnonzero(np.asarray(predicted).astype(bool))
            low = ax.get_ylim()[0]
            ax.plot(hits, np.full(hits.shape, low), "|", color="tab:blue", ms=6, alpha=0.6)
    axes[-1, 0].set_xlabel("time step (s)")
    handles = [plt.Rectangle((0, 0), 1, 1, color="tab:red", alpha=0.15, label="true anomaly")]
    if predicted is not None:
        handles.append(plt.Line2D([], [], marker="|", ls="", color="tab:blue", label="predicted anomaly"))
    fig.legend(handles=handles, loc="upper right", fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def fault_onset_traces(
    X: np.ndarray,
    var_names: Sequence[str],
    variables: Sequence[int],
    *,
    onset: int,
    reference: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Selected columns of a run with the fault onset marked; an optional normal run drawn beside it."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != len(var_names):
        raise ValueError(f"X must be (n_samples, {len(var_names)}), got {X.shape}")
    bad = [v for v in variables if not 0 <= v < X.shape[1]]
    if bad:
        raise ValueError(f"variable indices {bad} are outside 0..{X.shape[1] - 1}")
    fig, axes = plt.subplots(len(variables), 1, figsize=(10, 1.4 * len(variables) + 0.6), sharex=True, squeeze=False)
    for ax, v in zip(axes[:, 0], variables, strict=False):
        if reference is not None:
            ax.plot(np.asarray(reference)[:, v], lw=0.7, color="0.6", label="normal run")
        ax.plot(X[:, v], lw=0.8, color="tab:purple", label="faulty run")
        ax.axvline(onset, color="tab:red", ls="--", lw=1)
        ax.set_ylabel(var_names[v], rotation=0, ha="right", fontsize=8)
    axes[0, 0].legend(loc="upper left", fontsize=8, frameon=False)
    axes[-1, 0].set_xlabel("sample (3 min apart); dashed line: fault onset")
    if title:
        fig.suptitle(title, x=0.01, ha="left")
    fig.tight_layout()
    return fig
