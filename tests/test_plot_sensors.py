import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from dcca_core.plots.sensors import anomaly_intervals, fault_onset_traces, sensor_traces


def test_anomaly_intervals_hand_worked():
    assert anomaly_intervals([0, 1, 1, 0, 0, 1]) == [(1, 3), (5, 6)]
    assert anomaly_intervals([1, 1]) == [(0, 2)]
    assert anomaly_intervals([0, 0]) == []
    with pytest.raises(ValueError, match="1-D"):
        anomaly_intervals(np.zeros((2, 2)))


def test_sensor_traces_one_panel_per_channel_and_shading():
    frame = pd.DataFrame({"a": np.arange(10.0), "b": np.ones(10), "anomaly": [0, 0, 1, 1, 0, 0, 0, 1, 0, 0]})
    fig = sensor_traces(frame, predicted=np.r_[np.zeros(5), np.ones(5)])
    assert len(fig.axes) == 2
    assert len(fig.axes[0].patches) == 2  # two shaded anomaly intervals
    with pytest.raises(ValueError, match="predicted has"):
        sensor_traces(frame, predicted=[1, 0])
    with pytest.raises(ValueError, match="lacks columns"):
        sensor_traces(frame, channels=["zzz"])


def test_fault_onset_traces_checks_indices():
    X = np.random.default_rng(0).normal(size=(50, 3))
    fig = fault_onset_traces(X, ["x1", "x2", "x3"], [0, 2], onset=20, reference=X * 0.5)
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="outside"):
        fault_onset_traces(X, ["x1", "x2", "x3"], [5], onset=20)
