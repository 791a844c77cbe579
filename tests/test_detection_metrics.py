"""SKAB's F1/FAR/MAR and TEP's detection/false-alarm rates on hand-worked examples."""

import numpy as np
import pytest

from dcca_core.anomaly.detection_metrics import (confusion_counts, detection_rates, false_alarm_rate,
                                                 flag_everything, skab_scores)


def test_skab_scores_hand_worked():
    y = [0, 0, 1, 1, 1, 0]
    p = [0, 1, 1, 0, 1, np.nan]  # the last point has no decision: it is skipped, and counted
    assert confusion_counts(y, p) == {"tp": 2, "fp": 1, "fn": 1, "tn": 1, "n_undecided": 1}
    s = skab_scores(y, p)
    assert s["f1"] == pytest.approx(2 / 3)       # TP / (TP + (FP + FN) / 2) = 2 / 3
    assert s["far"] == pytest.approx(50.0)       # FP / (FP + TN) in %
    assert s["mar"] == pytest.approx(100 / 3)    # FN / (FN + TP) in %


def test_counts_are_summed_over_runs_before_the_ratios():
    runs_y = [np.array([1, 1, 0, 0]), np.array([0, 1, 0])]
    runs_p = [np.array([1, 0, 0, 0]), np.array([1, 1, 1])]
    s = skab_scores(runs_y, runs_p)
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (2, 2, 1, 2)
    assert s["f1"] == pytest.approx(2 / (2 + 1.5))
    # not the mean of the per-run F1s
    per_run = np.mean([skab_scores(y, p)["f1"] for y, p in zip(runs_y, runs_p)])
    assert s["f1"] != pytest.approx(per_run)


def test_flag_everything_baseline():
    y = [np.array([0, 1, 1, 0]), np.array([1, 1, 0])]  # 4 anomalous, 3 normal points
    s = flag_everything(y)
    assert s["f1"] == pytest.approx(4 / (4 + 3 / 2)) and s["far"] == 100.0 and s["mar"] == 0.0


def test_tep_rates():
    run = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    active = np.array([0, 0, 0, 0, 1, 1, 1, 0, 1, 1])
    flagged = np.array([0, 1, 0, 1, 1, 0, 1, 0, 0, np.nan])
    assert detection_rates(flagged, run, active) == {1: pytest.approx(2 / 3), 2: 0.0}
    assert false_alarm_rate(flagged, run == 0) == pytest.approx(1 / 3)
    assert false_alarm_rate(flagged, (active == 0)) == pytest.approx(2 / 5)
    assert detection_rates(flagged, run, active, faults=[2]) == {2: 0.0}


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="differ in length"):
        skab_scores([0, 1], [0])
    with pytest.raises(ValueError, match="0/1"):
        skab_scores([0, 1], [0, 0.5])
    with pytest.raises(ValueError, match="undefined"):
        skab_scores([0, 0], [0, 0])
    with pytest.raises(ValueError, match="lists"):
        skab_scores([np.zeros(2)], np.zeros(2))
    with pytest.raises(ValueError, match="lists"):
        skab_scores([np.zeros(2), np.ones(2)], [np.zeros(2)])
    with pytest.raises(ValueError, match="fault 3"):
        detection_rates([1, 1], [3, 3], [0, 0], faults=[3])
    with pytest.raises(ValueError, match="no normal samples"):
        false_alarm_rate([np.nan, 1.0], [1, 0])
