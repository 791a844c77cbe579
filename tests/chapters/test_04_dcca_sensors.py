"""Chapter 4 (DCCA on SKAB and Tennessee Eastman): the smoke run writes every metric issue 8 names,
in sane ranges, beside the published SKAB leaderboard figures."""

import math

import pytest

CHAPTER = "04_dcca_sensors"
METHODS = ("dcca", "dcca_score", "ae_kmeans", "ae_recon", "iforest", "pca_t2", "pca_q", "pca_t2q")
GROUPS = ("clustering", "all", "reconstruction")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(run_chapter):
    return run_chapter(CHAPTER)


def test_results_file_describes_the_run(results):
    assert results["chapter"] == CHAPTER and results["profile"] == "smoke"
    assert results["seed"] == 0 and results["wall_time_s"] > 0
    params = results["params"]
    assert params["skab"]["train_rows"] == 400 and params["skab"]["window"] >= 4
    assert {"pretrain_epochs", "joint_epochs", "masked_epochs", "alpha"} <= set(params["tep"]["dcca"])


@pytest.mark.parametrize("method", [*METHODS, "flag_all"])
def test_skab_scores_every_method(results, method):
    m = results["metrics"]
    assert 0.0 <= m[f"skab_{method}_f1"] <= 1.0
    assert 0.0 <= m[f"skab_{method}_far"] <= 100.0 and 0.0 <= m[f"skab_{method}_mar"] <= 100.0
    if method != "flag_all":
        assert 0.0 <= m[f"skab_{method}_auc"] <= 1.0


def test_skab_flag_everything_is_the_floor_it_should_be(results):
    m = results["metrics"]
    assert m["skab_flag_all_far"] == 100.0 and m["skab_flag_all_mar"] == 0.0
    assert 0.6 < m["skab_flag_all_f1"] < 0.8  # SKAB's test parts are about half anomalous


@pytest.mark.parametrize("method", METHODS)
def test_tep_detection_and_false_alarm_rates(results, method):
    m = results["metrics"]
    for key in ("fdr", "fdr_wo_3_9_15", "fdr_at_far5", "auc"):
        assert 0.0 <= m[f"tep_{method}_{key}"] <= 1.0, key
    for key in ("far", "far_prefault"):  # false-alarm rates in %, as SKAB's
        assert 0.0 <= m[f"tep_{method}_{key}"] <= 100.0, key
    per_fault = results["extra"]["tep_detection_rates"]  # fault → method → rate
    assert len(per_fault) == m["tep_n_faults"]
    assert all(0.0 <= rate <= 1.0 for rates in per_fault.values() for rate in rates.values())


def test_tep_pca_baseline_is_a_working_monitor(results):
    m = results["metrics"]
    # T² with 99% limits raises few false alarms on the fault-free test run and catches most faults
    assert m["tep_pca_t2_far"] < 10.0 and m["tep_pca_t2_fdr"] > 0.5  # FAR in %


@pytest.mark.parametrize("data", ["skab", "tep"])
def test_kernel_claim_is_measured_for_every_group(results, data):
    m = results["metrics"]
    for g in GROUPS:
        # a two-cluster Hungarian accuracy is ≥ 0.5 for any labels, so only its presence is checked here;
        # its value is checked by hand in tests/test_dcca_experiments.py::test_kernel_table_by_hand
        assert math.isfinite(m[f"{data}_kernels_{g}_acc"])
        assert 0.0 <= m[f"{data}_kernels_{g}_f1"] <= 1.0


def test_published_figures_are_paired_with_our_metrics(results):
    published, m = results["published"], results["metrics"]
    assert {"skab_dcca_f1", "skab_t2q_skab_f1", "skab_iforest_f1", "skab_conv_ae_skab_f1"} <= set(published)
    assert all(key in m for key in published)
    assert published["skab_dcca_f1"]["value"] == 0.78 and "SKAB" in published["skab_dcca_f1"]["source"]


@pytest.mark.parametrize("labels", ["reference", "fault_active"])
def test_setup_a_reports_top_k_dcca_beside_its_trivial_baselines(results, labels):
    m = results["metrics"]
    # the reference's labels: every window of the 21 faulty test runs, 21 of 22 runs (≈ 0.955)
    majority = m[f"tep_topk_{labels}_majority_acc"]
    assert majority == pytest.approx(21 / 22, abs=1e-9) if labels == "reference" else 0.75 < majority < 0.9
    for reading in ("topk", "topk_refit", "oracle"):
        assert 0.5 <= m[f"tep_topk_{labels}_{reading}_acc"] <= 1.0
    assert m[f"tep_topk_{labels}_oracle_acc"] >= m[f"tep_topk_{labels}_topk_acc"]
    assert -1.0 <= m[f"tep_topk_{labels}_spearman"] <= 1.0
    assert 0.5 <= m[f"tep_raw_kmeans_{labels}_acc"] <= 1.0
    assert results["params"]["tep_reference"]["window"] == 30


@pytest.mark.parametrize("monitor", ["pca", "pca_mean", "dpca", "dpca_mean"])
def test_setup_b_reports_the_classical_monitors_at_both_operating_points(results, monitor):
    m = results["metrics"]
    for key in ("fdr_at_far5", "fdr_wo_3_9_15_at_far5", "monitor_fdr"):
        assert 0.0 <= m[f"tep_{monitor}_{key}"] <= 1.0, key
    for key in ("monitor_far", "monitor_far_prefault"):
        assert 0.0 <= m[f"tep_{monitor}_{key}"] <= 100.0, key
    # a deployable-limit FAR this far above 1 % would be a fraction, not a percentage, read as one
    assert m[f"tep_{monitor}_monitor_far"] > 1.0
    assert m[f"tep_{monitor}_delay_at_far5"] >= 0
    assert results["params"]["tep_monitor"]["lags"] == 2


def test_the_realistic_mix_is_recorded(results):
    m = results["metrics"]
    assert 0.0 < results["params"]["tep_contamination"] < 0.5
    for key in ("tep_contam_dcca_fdr", "tep_contam_dcca_fdr_at_far5", "tep_contam_ae_recon_fdr"):
        assert 0.0 <= m[key] <= 1.0, key
    assert 0.0 <= m["tep_contam_dcca_far"] <= 100.0


def test_the_record_carries_the_training_cost_of_every_model(results):
    seconds = results["extra"]["training_seconds"]
    # set-up A alone trains one Top-K DCCA per seed, each of which records a positive training time
    assert seconds >= results["metrics"]["tep_topk_fit_seconds"] > 0
