"""Causal monitoring blocks: lags, trailing means, limits at a false-alarm rate, detection delay."""

from __future__ import annotations

import numpy as np
import pytest

from dcca_core.anomaly.monitoring import detection_delay, lag_matrix, limit_at_far, trailing_mean


def test_lag_matrix_by_hand():
    X = np.array([[1, 10], [2, 20], [3, 30], [4, 40]])
    np.testing.assert_array_equal(lag_matrix(X, 2), [[3, 30, 2, 20, 1, 10], [4, 40, 3, 30, 2, 20]])
    np.testing.assert_array_equal(lag_matrix(X, 0), X)
    with pytest.raises(ValueError, match="more than 4 samples"):
        lag_matrix(X, 4)


def test_trailing_mean_by_hand_and_it_never_looks_ahead():
    s = np.array([1.0, 3.0, 5.0, 7.0, 100.0])
    np.testing.assert_allclose(trailing_mean(s, 2), [1, 2, 4, 6, 53.5])
    np.testing.assert_allclose(trailing_mean(s, 10), np.cumsum(s) / np.arange(1, 6))
    future = s.copy()
    future[3:] = -50.0
    np.testing.assert_array_equal(trailing_mean(future, 3)[:3], trailing_mean(s, 3)[:3])
    lagged = lag_matrix(np.c_[s, s], 1)
    changed = lag_matrix(np.c_[future, future], 1)
    np.testing.assert_array_equal(lagged[:2], changed[:2])  # rows up to t = 2 use samples ≤ 2


def test_limit_at_far_flags_that_share_of_the_normal_scores():
    normal = np.arange(1000.0)
    limit = limit_at_far(normal, 0.05)
    assert (normal > limit).mean() == pytest.approx(0.05, abs=0.002)
    assert limit_at_far([np.nan, 1.0, 2.0], 0.5) == 1.5
    with pytest.raises(ValueError, match="far"):
        limit_at_far(normal, 0.0)


def test_detection_delay_counts_from_the_start_and_can_ask_for_confirmation():
    flags = np.array([1, 0, 0, 0, 1, 0, 1, 1, 1, 0])
    assert detection_delay(flags, 2) == 2  # sample 4 is the first flag at or after sample 2
    assert detection_delay(flags, 2, confirm=3) == 4  # samples 6, 7, 8
    assert np.isnan(detection_delay(flags, 2, confirm=4))
    assert detection_delay(np.array([0.0, np.nan, 1.0]), 0) == 2  # no decision is no alarm
    with pytest.raises(ValueError, match="start"):
        detection_delay(flags, 10)


def test_decided_trailing_mean_keeps_the_undecided_start_and_averages_the_rest():
    from dcca_core.anomaly.monitoring import decided_trailing_mean

    out = decided_trailing_mean([np.nan, np.nan, 1.0, 3.0, 5.0], 2)
    assert np.isnan(out[:2]).all()
    np.testing.assert_allclose(out[2:], [1.0, 2.0, 4.0])
