"""Chapter 1 end to end (smoke profile, papermill): the results file holds every metric issue 5 names."""

import math

import pytest

CHAPTER = "01_kmeans_cifar"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(run_chapter):
    return run_chapter(CHAPTER)


def test_results_file_describes_the_run(results):
    assert results["chapter"] == CHAPTER and results["profile"] == "smoke"
    assert results["seed"] == 0 and results["wall_time_s"] > 0
    for key in ("n_test", "n_train", "epochs", "batch_size", "l1_weight", "n_clusters"):
        assert key in results["params"], key


@pytest.mark.parametrize("space", ["pixels", "codes"])
def test_cluster_metrics_for_pixels_and_codes(results, space):
    m = results["metrics"]
    assert -1.0 <= m[f"{space}_silhouette"] <= 1.0
    assert 0.0 < m[f"{space}_dunn_classic"] < m[f"{space}_dunn_centroid"]
    assert 0.15 < m[f"{space}_acc"] <= 1.0  # ≥ 0.1 holds for any labels; the study measures ≈ 0.2
    assert 0.0 <= m[f"{space}_nmi"] <= 1.0
    # our KMeans against sklearn on the same data: close inertia, mostly the same partition
    assert m[f"{space}_inertia"] == pytest.approx(m[f"{space}_sklearn_inertia"], rel=0.02)
    assert 0.5 <= m[f"{space}_ours_vs_sklearn_ari"] <= 1.0


def test_autoencoder_loss_is_mse_plus_penalty(results):
    m = results["metrics"]
    assert 0.0 < m["ae_final_mse"] < 0.06  # below the pixel variance: it learned something
    assert m["ae_final_l1_penalty"] > 0.0
    assert math.isclose(m["ae_final_loss"], m["ae_final_mse"] + m["ae_final_l1_penalty"], rel_tol=1e-6)
    logs = results["extra"]["ae_epoch_logs"]
    assert len(logs) == results["params"]["epochs"] and logs[-1]["loss"] < logs[0]["loss"]


def test_beyond_the_study_and_published_numbers(results):
    m, extra = results["metrics"], results["extra"]
    spaces = {row["feature space"] for row in extra["feature_spaces"]}
    assert spaces == {"grey pixels", "RGB pixels", "AE codes", "AE codes, l2-normalised"}
    for curve in extra["elbow"].values():
        assert curve["k"] == list(range(results["params"]["k_min"], results["params"]["k_max"] + 1))
    # pixel clusters follow brightness far more than the classes do
    assert m["brightness_eta2_pixel_clusters"] > m["brightness_eta2_classes"]
    published = results["published"]
    assert {
        "pixels_silhouette",
        "pixels_dunn_classic",
        "ae_final_loss",
        "codes_silhouette",
        "codes_dunn_classic",
    } <= set(published)
    assert all(key in m for key in published)
