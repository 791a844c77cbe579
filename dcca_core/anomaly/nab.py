"""NAB scores for changepoint detection, as SKAB's leaderboard computes them (Lavin & Ahmad 2015,
with the scoring function of SKAB's `tsad`, waico/SKAB `core/metrics.py` at b2c0d46).

Per run: every true changepoint `c` opens a detection window `[c, c + width]` (SKAB: 60 s to the
right; an overlap is resolved by starting the later window where the earlier one ends). The
detector's changepoints are the points where its 0/1 decision changes, both ways, plus its first
point if it is 1 — SKAB's `abs(prediction.diff())`. In each window the first detected changepoint
is a true positive worth

    A_fp + (A_tp − A_fp) · (1 − tanh(x) / tanh(π/2)) / 2,   x = −π/2 … π/2 across the window,

so A_tp at the window's start and A_fp at its end; a window with none is a false negative (A_fn);
a detected changepoint outside every window is a false positive (A_fp); later ones inside a window
count for nothing. Scores are summed over runs and normalised so that detecting nothing scores 0
and the first point of every window scores 100:  100 · (S − S_null) / (S_perfect − S_null).
Profiles (A_tp, A_fp, A_fn): standard (1, −0.11, −1), low FP (1, −0.22, −1), low FN (1, −0.11, −2).
This is our own code, written from a reading of SKAB's; no line of it is copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["NAB_PROFILES", "predicted_changepoints", "detection_windows", "nab_scores"]

NAB_PROFILES = {"standard": (1.0, -0.11, -1.0), "low_fp": (1.0, -0.22, -1.0), "low_fn": (1.0, -0.11, -2.0)}
_DETAIL = 1000  # SKAB evaluates its scoring function on a grid of this many points
_GRID = np.linspace(-np.pi / 2, np.pi / 2, _DETAIL)  # where each window position sits on the tanh


def predicted_changepoints(decisions: Any) -> np.ndarray:
    """0/1 changepoints of a 0/1 decision series: |d_t − d_{t−1}|, and d_0 itself (NaN: none)."""
    d = np.asarray(decisions, dtype=np.float64)
    if d.ndim != 1:
        raise ValueError(f"decisions must be 1-d, got shape {d.shape}")
    if not np.isin(d[~np.isnan(d)], (0.0, 1.0)).all():
        raise ValueError("decisions must hold 0, 1 or NaN")
    if len(d) == 0:
        return np.zeros(0, dtype=bool)
    cp = np.abs(np.diff(d, prepend=np.nan))
    cp[0] = d[0]
    return np.nan_to_num(cp, nan=0.0).astype(bool)


def detection_windows(changepoint_times: Any, width: float) -> list[tuple[float, float]]:
    """`[c, c + width]` for every true changepoint time `c` (sorted); an overlapping window starts
    where the one before it ends (SKAB's "cut right window")."""
    times = np.asarray(changepoint_times, dtype=np.float64)
    if width <= 0:
        raise ValueError(f"width must be > 0, got {width}")
    if np.any(np.diff(times) < 0):
        raise ValueError("changepoint times must be sorted")
    windows = [[float(c), float(c) + width] for c in times]
    for i in range(len(windows) - 1):
        if windows[i][1] >= windows[i + 1][0]:
            windows[i + 1][0] = windows[i][1]
    return [(a, b) for a, b in windows]


def _tp_value(left: float, hit: float, right: float, a_tp: float, a_fp: float) -> float:
    """The reward of a window's first hit: a_tp at its left edge falling to a_fp at its right, along
    tanh on SKAB's grid of `_DETAIL` points."""
    event = min(int((hit - left) / (right - left) * _DETAIL), _DETAIL - 1)
    return float((a_tp - a_fp) / 2 * -np.tanh(_GRID[event]) / np.tanh(np.pi / 2) + (a_tp - a_fp) / 2 + a_fp)


def _run_counts(
    windows: list[tuple[float, float]], hits: np.ndarray
) -> tuple[list[tuple[float, float, float]], int, int]:
    """(true positives as (left, first hit, right), false negatives, false positives) of one run."""
    tps: list[tuple[float, float, float]] = []
    fn = 0
    outside = np.ones(len(hits), dtype=bool)
    if windows:
        # SKAB's false positives: before the first window, after the last, and in the gaps between windows
        outside &= ~((hits >= windows[0][0]) & (hits <= windows[-1][1]))
        for i, (a, b) in enumerate(windows):
            inside = hits[(hits >= a) & (hits <= b)]
            if len(inside):
                tps.append((a, float(inside[0]), b))
            else:
                fn += 1
            if i + 1 < len(windows):
                outside |= (hits > b) & (hits < windows[i + 1][0])
    return tps, fn, int(outside.sum())


def nab_scores(
    changepoints: Sequence[Any],
    decisions: Sequence[Any],
    times: Sequence[Any] | None = None,
    *,
    width: float = 60.0,
    profiles: dict[str, tuple[float, float, float]] | None = None,
) -> dict[str, float]:
    """NAB score (in %, per profile) of 0/1 point decisions against 0/1 true changepoints, over a
    list of runs; `times` are each run's point times in seconds (default: 0, 1, 2, … — 1 Hz)."""
    profiles = NAB_PROFILES if profiles is None else profiles
    if len(changepoints) != len(decisions) or (times is not None and len(times) != len(decisions)):
        raise ValueError("changepoints, decisions (and times) must list the same runs")
    totals = {name: np.zeros(3) for name in profiles}  # score, null, perfect
    for i, (cp, dec) in enumerate(zip(changepoints, decisions, strict=True)):
        cp_arr = np.asarray(cp)
        t = np.arange(len(cp_arr), dtype=np.float64) if times is None else np.asarray(times[i], dtype=np.float64)
        if not (len(cp_arr) == len(np.asarray(dec)) == len(t)):
            raise ValueError(f"run {i}: changepoints, decisions and times differ in length")
        if not np.isin(cp_arr, (0, 1)).all():
            raise ValueError(f"run {i}: changepoints must be 0/1")
        windows = detection_windows(t[cp_arr == 1], width)
        tps, fn, fp = _run_counts(windows, t[predicted_changepoints(dec)])
        for name, (a_tp, a_fp, a_fn) in profiles.items():
            score = a_fp * fp + a_fn * fn + sum(_tp_value(a, h, b, a_tp, a_fp) for a, h, b in tps)
            totals[name] += (score, len(windows) * a_fn, len(windows) * a_tp)
    out = {}
    for name, (score, null, perfect) in totals.items():
        out[name] = float(100 * (score - null) / (perfect - null)) if perfect != null else float("nan")
    return out
