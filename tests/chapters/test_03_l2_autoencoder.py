"""Chapter 3 (l2-normalised autoencoders), executed once in the smoke profile."""

import pytest

from dcca_core.experiments.l2_autoencoder import PUBLISHED

CHAPTER = "03_l2_autoencoder"
CLUSTERING = ["ae", "ae_l2", "cae", "cae_l2", "cae_batch", "cae_layer"]
ANOMALY = ["auc_cae_l2_cluster", "auc_cae_cluster", "auc_cae_cluster_raw", "auc_recon", "auc_recon_plain"]


@pytest.mark.slow
def test_results_have_every_clustering_metric_in_range(run_chapter):
    metrics = run_chapter(CHAPTER)["metrics"]
    for model in CLUSTERING:
        assert 0.18 < metrics[f"acc_{model}"] <= 1.0, model  # chance ≈ 0.12; smoke runs measured 0.245+
        assert 0.0 <= metrics[f"nmi_{model}"] <= 1.0, model


@pytest.mark.slow
def test_results_have_every_anomaly_protocol_in_range(run_chapter):
    metrics = run_chapter(CHAPTER)["metrics"]
    for name in ANOMALY:
        for prefix in ("", "clean_", "oneclass_"):
            assert 0.0 <= metrics[f"{prefix}{name}"] <= 1.0, prefix + name


@pytest.mark.slow
def test_per_digit_tables_cover_the_digits_run(run_chapter):
    record = run_chapter(CHAPTER)
    params, extra = record["params"], record["extra"]
    for key, digits in (
        ("anomaly_per_digit", params["anomaly_digits"]),
        ("clean_per_digit", params["clean_digits"]),
        ("one_class_per_digit", params["one_class_digits"]),
    ):
        table = extra[key]
        assert set(table) == {str(d) for d in digits} | {"mean"}
        assert all(0.0 <= v <= 1.0 for row in table.values() for v in row.values())


@pytest.mark.slow
def test_published_figures_are_paired_with_our_metrics(run_chapter):
    record = run_chapter(CHAPTER)
    assert record["profile"] == "smoke"
    assert set(record["published"]) <= set(record["metrics"])
    assert record["published"]["acc_cae_l2"]["value"] == PUBLISHED["acc_cae_l2"]["value"] == pytest.approx(0.9511)
    assert record["published"]["auc_cae_l2_cluster"]["value"] == pytest.approx(0.908)


@pytest.mark.slow
def test_length_curve_passes_through_the_clustering_table(run_chapter):
    record = run_chapter(CHAPTER)
    params, metrics, extra = record["params"], record["metrics"], record["extra"]
    assert params["cluster_epochs"] in params["length_epochs"]  # the smoke settings make this check possible
    at_table = {row["model"]: row for row in extra["length_curve"] if row["epoch"] == params["cluster_epochs"]}
    assert at_table["CAE"]["acc"] == metrics["acc_cae"] and at_table["CAE-l2"]["acc"] == metrics["acc_cae_l2"]
    last = max(params["length_epochs"])
    assert metrics["longest_acc_cae_l2"] == next(
        r["acc"] for r in extra["length_curve"] if r["model"] == "CAE-l2" and r["epoch"] == last
    )


@pytest.mark.slow
def test_training_log_names_every_model_and_its_cost(run_chapter):
    record = run_chapter(CHAPTER)
    training, params = record["extra"]["training"], record["params"]
    assert set(training["clustering_seed0"]) == {"AE", "AE-l2", "CAE", "CAE-l2", "CAE-batch", "CAE-layer"}
    assert set(training["clean"]) == {str(d) for d in params["clean_digits"]}
    assert set(training["one_class_seed0"]) == {str(d) for d in params["one_class_digits"]}
    assert all(
        (entry["seconds"] is None and entry["reused"]) or entry["seconds"] > 0  # None: unknown cost
        for group in ("clustering_seed0", "clean", "one_class_seed0")
        for entry in training[group].values()
    )
    assert isinstance(training["reused_any"], bool)


@pytest.mark.slow
def test_paper_reading_reuses_the_table_models_and_seeds_are_recorded(run_chapter):
    record = run_chapter(CHAPTER)
    params, metrics, extra = record["params"], record["metrics"], record["extra"]
    assert params["n_seeds"] == 1 and "acc_cae_l2_std" not in metrics  # one seed: no sd is made up
    assert metrics["l2_margin_cae"] == pytest.approx(metrics["acc_cae_l2"] - metrics["acc_cae"])
    assert extra["clustering_by_seed"]["0"]["acc_cae_l2"] == metrics["acc_cae_l2"]
    assert "paper" not in extra["training"]  # the paper's reading trains nothing of its own
    assert set(extra["anomaly_per_digit_by_seed"]["0"]) == {str(d) for d in params["anomaly_digits"]} | {"mean"}
