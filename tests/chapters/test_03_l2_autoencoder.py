"""Chapter 3 (l2-normalised autoencoders), executed once in the smoke profile."""

import pytest

from dcca_core.experiments.l2_autoencoder import PUBLISHED

CHAPTER = "03_l2_autoencoder"
CLUSTERING = ["ae", "ae_l2", "cae", "cae_l2", "cae_batch", "cae_layer"]
ANOMALY = ["auc_cae_l2_cluster", "auc_cae_cluster", "auc_recon", "auc_recon_plain"]


@pytest.mark.slow
def test_results_have_every_clustering_metric_in_range(run_chapter):
    metrics = run_chapter(CHAPTER)["metrics"]
    for model in CLUSTERING:
        assert 0.1 <= metrics[f"acc_{model}"] <= 1.0, model  # 10 balanced clusters: accuracy ≥ 0.1
        assert 0.0 <= metrics[f"nmi_{model}"] <= 1.0, model


@pytest.mark.slow
def test_results_have_both_anomaly_protocols_in_range(run_chapter):
    metrics = run_chapter(CHAPTER)["metrics"]
    for name in ANOMALY:
        assert 0.0 <= metrics[name] <= 1.0, name
        assert 0.0 <= metrics[f"oneclass_{name}"] <= 1.0, name


@pytest.mark.slow
def test_per_digit_tables_cover_the_digits_run(run_chapter):
    record = run_chapter(CHAPTER)
    params, extra = record["params"], record["extra"]
    for key, digits in (("anomaly_per_digit", params["anomaly_digits"]),
                        ("one_class_per_digit", params["one_class_digits"])):
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
