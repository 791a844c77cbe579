"""NAB scoring as SKAB's leaderboard computes it, on hand-worked runs."""

from __future__ import annotations

import numpy as np
import pytest

from dcca_core.anomaly.nab import NAB_PROFILES, detection_windows, nab_scores, predicted_changepoints


def _run(n=300, cps=(100,)):
    cp = np.zeros(n, dtype=int)
    cp[list(cps)] = 1
    return cp


def test_changepoints_of_a_decision_are_its_switches_both_ways():
    d = np.array([1, 1, 0, 0, 1, 1, 1, 0])
    assert np.flatnonzero(predicted_changepoints(d)).tolist() == [0, 2, 4, 7]
    assert np.flatnonzero(predicted_changepoints([np.nan, 0, 1, np.nan, 1])).tolist() == [2]
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        predicted_changepoints([0, 2])


def test_overlapping_windows_start_where_the_earlier_one_ends():
    assert detection_windows([10, 40, 200], 60) == [(10, 70), (70, 100), (200, 260)]
    with pytest.raises(ValueError, match="sorted"):
        detection_windows([40, 10], 60)


def test_a_detection_at_the_changepoint_scores_100_and_none_scores_0():
    cp = _run()
    at_cp = (np.arange(300) >= 100).astype(float)  # switches on at the changepoint, stays on
    assert nab_scores([cp], [at_cp]) == {name: pytest.approx(100.0) for name in NAB_PROFILES}
    assert nab_scores([cp], [np.zeros(300)]) == {name: 0.0 for name in NAB_PROFILES}


def test_a_false_alarm_and_a_miss_by_hand():
    cp = _run()
    late = (np.arange(300) >= 250).astype(float)  # one switch, at 250: outside [100, 160]
    s = nab_scores([cp], [late])
    # S = A_fn + A_fp, S_null = A_fn, S_perfect = A_tp: 100 * A_fp / (A_tp - A_fn)
    assert s["standard"] == pytest.approx(100 * -0.11 / 2)
    assert s["low_fp"] == pytest.approx(100 * -0.22 / 2)
    assert s["low_fn"] == pytest.approx(100 * -0.11 / 3)


def test_a_detection_midway_is_worth_about_the_middle_of_the_scoring_function():
    cp = _run()
    mid = ((np.arange(300) >= 130) & (np.arange(300) < 150)).astype(float)  # on at 130, off at 150: both inside
    s = nab_scores([cp], [mid])
    x = np.linspace(-np.pi / 2, np.pi / 2, 1000)[500]  # (130 - 100) / 60 of the way
    value = 1.11 / 2 * -np.tanh(x) / np.tanh(np.pi / 2) + 1.11 / 2 - 0.11
    assert s["standard"] == pytest.approx(100 * (value + 1) / 2)  # the second switch, inside, counts for nothing


def test_times_are_seconds_and_runs_are_pooled():
    cp = _run(n=100, cps=(50,))
    hit = (np.arange(100) >= 55).astype(float)
    every_2s = np.arange(100) * 2.0  # the same samples at 0.5 Hz: 5 samples are 10 s, the window 60 s wide
    one = nab_scores([cp], [hit], [every_2s])
    x = np.linspace(-np.pi / 2, np.pi / 2, 1000)[int(10 / 60 * 1000)]
    value = 1.11 / 2 * -np.tanh(x) / np.tanh(np.pi / 2) + 1.11 / 2 - 0.11
    assert one["standard"] == pytest.approx(100 * (value + 1) / 2)
    both = nab_scores([cp, _run()], [hit, np.zeros(300)], [every_2s, np.arange(300.0)])
    # S = value - 1 (a hit, a miss), S_null = -2, S_perfect = 2
    assert both["standard"] == pytest.approx(100 * (value - 1 + 2) / 4)
    with pytest.raises(ValueError, match="same runs"):
        nab_scores([cp], [hit, hit])
    with pytest.raises(ValueError, match="differ in length"):
        nab_scores([cp], [hit[:50]])
