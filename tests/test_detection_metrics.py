"""SKAB's F1/FAR/MAR and TEP's detection/false-alarm rates on hand-worked examples."""

import numpy as np
import pytest

from dcca_core.anomaly.detection_metrics import (
    confusion_counts,
    detection_rates,
    false_alarm_rate,
    flag_everything,
    pooled_f1,
    skab_scores,
)


def test_skab_scores_hand_worked():
    y = [0, 0, 1, 1, 1, 0]
    p = [0, 1, 1, 0, 1, np.nan]  # the last point has no decision: it is skipped, and counted
    assert confusion_counts(y, p) == {"tp": 2, "fp": 1, "fn": 1, "tn": 1, "n_undecided": 1}
    s = skab_scores(y, p)
    assert s["f1"] == pytest.approx(2 / 3)  # TP / (TP + (FP + FN) / 2) = 2 / 3
    assert s["far"] == pytest.approx(50.0)  # FP / (FP + TN) in %
    assert s["mar"] == pytest.approx(100 / 3)  # FN / (FN + TP) in %


def test_counts_are_summed_over_runs_before_the_ratios():
    runs_y = [np.array([1, 1, 0, 0]), np.array([0, 1, 0])]
    runs_p = [np.array([1, 0, 0, 0]), np.array([1, 1, 1])]
    s = skab_scores(runs_y, runs_p)
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (2, 2, 1, 2)
    assert s["f1"] == pytest.approx(2 / (2 + 1.5))
    # not the mean of the per-run F1s
    per_run = np.mean([skab_scores(y, p)["f1"] for y, p in zip(runs_y, runs_p, strict=False)])
    assert s["f1"] != pytest.approx(per_run)
    # the same formula, elementwise, for a bootstrap's arrays of summed counts
    np.testing.assert_allclose(pooled_f1(np.array([2, 0]), np.array([2, 1]), np.array([1, 1])), [2 / 3.5, 0.0])


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


# --------------------------------------------------------------------------------------------------
# Input validation: 0/1 flags only, 1-D, same length, non-empty; the error names the argument.


def test_scores_are_not_flags():
    run = np.array([0, 0, 1, 1])
    active = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"flagged must hold 0/1 .*0\.3"):
        detection_rates(np.array([0.0, 0.3, 0.3, 0.3]), run, active)
    with pytest.raises(ValueError, match=r"flagged must hold 0/1 .*0\.3"):
        false_alarm_rate([0.3, 0.3, 0.0, 1.0], run == 0)
    with pytest.raises(ValueError, match=r"flagged must hold 0/1"):
        false_alarm_rate([0, 2, 1, 0])  # cluster indices are not flags
    with pytest.raises(ValueError, match=r"fault_active must hold 0/1"):
        detection_rates([0, 1, 1, 0], run, [0, 0, 0.5, 1])
    with pytest.raises(ValueError, match=r"normal must hold 0/1"):
        false_alarm_rate([0, 1, 1, 0], [1, 1, 0.2, 0])
    with pytest.raises(ValueError, match=r"normal must hold 0/1 flags only, without NaN"):
        false_alarm_rate([0, 1, 1, 0], [1, 1, np.nan, 0])
    with pytest.raises(ValueError, match=r"y_pred must hold 0/1 .*0\.7"):
        confusion_counts([0, 1, 1], [0.0, 0.7, 1.0])
    with pytest.raises(ValueError, match=r"y_true must hold 0/1"):
        confusion_counts([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match=r"y_true must hold 0/1 flags only, without NaN"):
        confusion_counts([0, np.nan, 1], [0, 1, 1])
    with pytest.raises(ValueError, match=r"y_pred must hold 0/1 flags \(bool or numbers\)"):
        confusion_counts([0, 1], ["no", "yes"])


def test_accepted_flag_types_give_the_same_counts():
    y = [0, 1, 1, 0]
    expected = {"tp": 1, "fp": 1, "fn": 1, "tn": 1, "n_undecided": 0}
    for p in (
        [0, 1, 0, 1],
        np.array([False, True, False, True]),
        np.array([0, 1, 0, 1], np.uint8),
        np.array([0.0, 1.0, 0.0, 1.0], np.float32),
    ):
        assert confusion_counts(y, p) == expected
    assert confusion_counts(np.array(y, bool), [0, 1, 0, 1]) == expected
    run = np.array([0, 0, 1, 1])
    assert detection_rates(np.array([False, True, True, False]), run, run == 1) == {1: 0.5}
    assert false_alarm_rate(np.array([1, 0, 1, 1], np.int8), np.array([1, 1, 0, 0], np.uint8)) == 0.5


def test_shapes_must_match_and_be_one_dimensional():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, (5, 10))
    p = rng.integers(0, 2, (10, 5))
    with pytest.raises(ValueError, match=r"y_true must be 1-D .*\(5, 10\)"):
        confusion_counts(y, p)  # 50 values each, but not the same points
    with pytest.raises(ValueError, match=r"y_pred must be 1-D .*\(10, 5\)"):
        confusion_counts(y.ravel(), p)
    with pytest.raises(ValueError, match=r"y_true must be 1-D"):
        skab_scores(y, y)
    with pytest.raises(ValueError, match=r"flagged must be 1-D"):
        detection_rates(np.zeros((4, 1)), [1, 1, 1, 1], [1, 1, 1, 1])
    with pytest.raises(ValueError, match=r"run must be 1-D"):
        detection_rates([0, 1], [[1, 1]], [1, 1])
    with pytest.raises(ValueError, match=r"normal must be 1-D"):
        false_alarm_rate([0, 1, 0, 1], np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"flagged, run and fault_active differ in length: 3, 2, 2"):
        detection_rates([0, 1, 1], [1, 1], [1, 1])
    with pytest.raises(ValueError, match=r"flagged, run and fault_active differ in length: 2, 2, 3"):
        detection_rates([0, 1], [1, 1], [1, 1, 0])
    with pytest.raises(ValueError, match=r"flagged and normal differ in length: 2 vs 3"):
        false_alarm_rate([0, 1], [1, 1, 0])
    with pytest.raises(ValueError, match=r"y_true must be 1-D .*\(\)"):
        confusion_counts(1, 1)


def test_empty_input_is_rejected():
    with pytest.raises(ValueError, match="y_true is empty"):
        confusion_counts([], [])
    with pytest.raises(ValueError, match="y_true is empty"):
        skab_scores(np.array([]), np.array([]))
    with pytest.raises(ValueError, match="flagged is empty"):
        detection_rates([], [], [])
    with pytest.raises(ValueError, match="flagged is empty"):
        false_alarm_rate([])


def test_a_bad_run_in_a_list_is_named_by_its_index():
    good = np.array([0, 1, 1])
    with pytest.raises(ValueError, match=r"run 1: y_pred must hold 0/1"):
        skab_scores([good, good], [good, np.array([0.0, 0.4, 1.0])])
    with pytest.raises(ValueError, match=r"run 0: y_true and y_pred differ in length: 3 vs 2"):
        skab_scores([good, good], [good[:2], good])
