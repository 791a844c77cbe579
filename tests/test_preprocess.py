"""Windows, window labels, window→point decisions and train-only scaling on tiny hand-made series."""

import numpy as np
import pytest

from dcca_core.preprocess import ChannelScaler, sliding_windows, window_ends, window_labels, windows_to_points

# 10 points, 2 channels: channel 0 is 0..9, channel 1 is 100..109
SERIES = np.stack([np.arange(10.0), 100.0 + np.arange(10.0)], axis=1)
#                  0  1  2  3  4  5  6  7  8  9
LABELS = np.array([0, 0, 1, 1, 1, 1, 0, 0, 0, 1])


def test_window_shapes_and_contents_channels_first():
    w = sliding_windows(SERIES, length=4, stride=2)
    assert w.shape == (4, 2, 4) and w.dtype == np.float32
    np.testing.assert_array_equal(w[0, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(w[1, 1], [102, 103, 104, 105])
    np.testing.assert_array_equal(w[-1, 0], [6, 7, 8, 9])
    np.testing.assert_array_equal(window_ends(10, 4, 2), [3, 5, 7, 9])
    assert sliding_windows(SERIES, 4).shape == (7, 2, 4)
    # the last incomplete window is dropped: with stride 3 windows end at 3, 6, 9
    np.testing.assert_array_equal(window_ends(10, 4, 3), [3, 6, 9])
    assert sliding_windows(SERIES, 4, 3).shape == (3, 2, 4)


def test_window_labels_under_each_rule():
    # windows (stride 2): [0..3] has 2 anomalous points, [2..5] 4, [4..7] 2, [6..9] 1
    np.testing.assert_array_equal(window_labels(LABELS, 4, 2, "last"), [1, 1, 0, 1])
    np.testing.assert_array_equal(window_labels(LABELS, 4, 2, "any"), [1, 1, 1, 1])
    np.testing.assert_array_equal(window_labels(LABELS, 4, 2, "majority"), [0, 1, 0, 0])
    np.testing.assert_array_equal(window_labels(LABELS, 4, 2, "all"), [0, 1, 0, 0])
    np.testing.assert_array_equal(window_labels(np.zeros(10, int), 4, 1, "any"), np.zeros(7))


def test_windows_to_points_takes_the_window_ending_at_each_point():
    pts = windows_to_points([10, 20, 30, 40], n_points=10, length=4, stride=2)
    assert np.isnan(pts[:3]).all()
    np.testing.assert_array_equal(pts[3:], [10, 10, 20, 20, 30, 30, 40])
    # stride 1: point t gets exactly the window that ends at t
    vals = np.arange(7.0)
    np.testing.assert_array_equal(windows_to_points(vals, 10, 4)[3:], vals)
    # round trip with the "last" rule: window labels put back on points give the point labels
    back = windows_to_points(window_labels(LABELS, 4), 10, 4)
    np.testing.assert_array_equal(back[3:], LABELS[3:])


def test_scaler_uses_training_rows_only_and_keeps_constant_channels_visible():
    train = np.array([[1.0, 5.0], [3.0, 5.0]])
    test = np.array([[5.0, 6.0]])
    sc = ChannelScaler().fit(train)
    np.testing.assert_allclose(sc.mean_, [2.0, 5.0])
    np.testing.assert_allclose(sc.scale_, [1.0, 1.0])  # std of (1, 3) is 1; channel 1 is constant → 1
    assert sc.constant_.tolist() == [False, True]
    np.testing.assert_allclose(sc.transform(test), [[3.0, 1.0]])
    np.testing.assert_allclose(ChannelScaler().fit_transform(train), [[-1.0, 0.0], [1.0, 0.0]])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="fewer than the window length"):
        sliding_windows(SERIES, 11)
    with pytest.raises(ValueError, match="window length"):
        sliding_windows(SERIES, 0)
    with pytest.raises(ValueError, match="stride"):
        window_ends(10, 4, 0)
    with pytest.raises(ValueError, match="NaN"):
        sliding_windows(np.array([[1.0], [np.nan], [2.0]]), 2)
    with pytest.raises(ValueError, match="rule"):
        window_labels(LABELS, 4, 1, "mean")
    with pytest.raises(ValueError, match="0/1"):
        window_labels(np.array([0, 2, 1]), 2)
    with pytest.raises(ValueError, match="expected 7 window values"):
        windows_to_points(np.zeros(6), 10, 4)
    with pytest.raises(ValueError, match="not fitted"):
        ChannelScaler().transform(SERIES)
    with pytest.raises(ValueError, match="channels"):
        ChannelScaler().fit(SERIES).transform(np.zeros((3, 3)))
