import numpy as np
import pytest
import torch

from dcca_core.data import load_cifar10
from dcca_core.experiments import cifar_kmeans as ck


@pytest.fixture(scope="module")
def cifar_slice():
    """300 real CIFAR-10 test images: grey (N, 32, 32) in 0..255, RGB uint8, labels."""
    grey = load_cifar10("test", grayscale=True)
    rgb = load_cifar10("test")
    return grey.images[:300], rgb.images[:300], grey.labels[:300]


def test_subset_indices_are_seeded_sorted_and_unique():
    a = ck.subset_indices(1000, 100, seed=3)
    assert len(a) == 100 and len(np.unique(a)) == 100 and np.all(np.diff(a) > 0)
    assert np.array_equal(a, ck.subset_indices(1000, 100, seed=3))
    assert not np.array_equal(a, ck.subset_indices(1000, 100, seed=4))
    assert np.array_equal(ck.subset_indices(50, None, 0), np.arange(50))
    assert np.array_equal(ck.subset_indices(50, 80, 0), np.arange(50))
    with pytest.raises(ValueError, match="subset size"):
        ck.subset_indices(50, 0, 0)


def test_study_preprocessing_and_rgb_features(cifar_slice):
    grey, rgb, _ = cifar_slice
    X = ck.grey_features(grey)
    assert X.shape == (300, 1024) and X.dtype == np.float32
    assert 0.0 <= X.min() and X.max() <= 1.0
    assert X[0, 5] == pytest.approx(grey[0].ravel()[5] / 255.0)
    R = ck.rgb_features(rgb)
    assert R.shape == (300, 3072) and R.max() <= 1.0
    with pytest.raises(ValueError, match="grey images"):
        ck.grey_features(rgb)
    with pytest.raises(ValueError, match="RGB images"):
        ck.rgb_features(grey)


def test_l2_normalise_gives_unit_rows_and_keeps_zero_rows():
    out = ck.l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_nearest_to_centroids_hand_example():
    X = np.array([[0.0], [1.0], [0.2], [10.0], [9.0], [5.0]])
    labels = np.array([0, 0, 0, 1, 1, 2])
    centers = np.array([[0.0], [10.0], [5.0]])
    idx = ck.nearest_to_centroids(X, centers, labels, n_per_cluster=2)
    assert idx.tolist() == [[0, 2], [3, 4], [5, -1]]
    with pytest.raises(ValueError, match="differ in length"):
        ck.nearest_to_centroids(X, centers, labels[:3], 2)


def test_between_group_share_hand_example():
    # groups {1, 3} and {5, 7}: means 2 and 6, grand mean 4 → between 16, total 20
    assert ck.between_group_share([1, 3, 5, 7], [0, 0, 1, 1]) == pytest.approx(0.8)
    assert ck.between_group_share([1, 3, 5, 7], [0, 1, 2, 3]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="constant"):
        ck.between_group_share([2, 2], [0, 1])


def test_cluster_quality_and_sklearn_parity_on_real_pixels(cifar_slice):
    grey, _, y = cifar_slice
    X = ck.grey_features(grey)
    ours, table = ck.kmeans_vs_sklearn(X, 5, n_init=2, seed=0, device="cpu")
    assert list(table.index) == ["dcca_core", "scikit-learn"]
    inertia = table["inertia"]
    assert inertia["dcca_core"] == pytest.approx(inertia["scikit-learn"], rel=0.02)
    assert 0.5 < table["ARI vs other"].iloc[0] <= 1.0
    q = ck.cluster_quality(X, ours.labels_, y)
    assert set(q) == {"silhouette", "dunn_classic", "dunn_centroid", "acc", "nmi"}
    assert -1 <= q["silhouette"] <= 1 and 0 < q["dunn_classic"] < q["dunn_centroid"]
    # against reference implementations: sklearn's NMI, and the best one-to-one matching of the
    # contingency table by scipy's Hungarian solver
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import normalized_mutual_info_score

    counts = np.zeros((5, 10))
    np.add.at(counts, (ours.labels_, y), 1)
    rows, cols = linear_sum_assignment(-counts)
    assert q["acc"] == pytest.approx(counts[rows, cols].sum() / len(y))
    assert q["nmi"] == pytest.approx(normalized_mutual_info_score(y, ours.labels_))


def test_elbow_sweep_inertia_falls_with_k(cifar_slice):
    X = ck.grey_features(cifar_slice[0])
    df = ck.elbow_sweep(X, [2, 4, 8], seed=0, device="cpu")
    assert df["k"].tolist() == [2, 4, 8]
    assert df["inertia"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="k ≥ 2"):
        ck.elbow_sweep(X, [1, 2])


def test_train_sparse_ae_is_checkpointed_and_reused(cifar_slice, tmp_path, monkeypatch):
    monkeypatch.setenv("DCCA_CHECKPOINT_DIR", str(tmp_path))
    X = cifar_slice[0][:64] / 255.0
    threads = torch.get_num_threads()
    first = ck.train_sparse_ae(X, epochs=1, batch_size=32, seed=0, device="cpu", progress=False)
    assert torch.get_num_threads() == threads  # the single-thread cap is lifted after training
    assert not first.from_checkpoint and len(list(tmp_path.glob("sparse_conv_ae-*.pt"))) == 1
    final = first.final
    assert final["loss"] == pytest.approx(final["mse"] + final["l1_penalty"], rel=1e-5)
    again = ck.train_sparse_ae(X, epochs=1, batch_size=32, seed=0, device="cpu", progress=False)
    assert again.from_checkpoint and again.history.epoch_loss == first.history.epoch_loss
    recon = ck.reconstruct(again.model, X, device="cpu")
    assert recon.shape == X.shape and 0 <= recon.min() and recon.max() <= 1
    other = ck.train_sparse_ae(
        cifar_slice[0][64:128] / 255.0, epochs=1, batch_size=32, seed=0, device="cpu", progress=False
    )  # other images of the same shape: trained, not reused
    assert not other.from_checkpoint and len(list(tmp_path.glob("sparse_conv_ae-*.pt"))) == 2
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ck.train_sparse_ae(X * 255.0, epochs=1, device="cpu", checkpoint=False, progress=False)


def test_the_study_figures_have_one_home_that_the_committed_run_carries():
    import json
    from pathlib import Path

    from dcca_core.experiments.cifar_kmeans import PUBLISHED, STUDY

    committed = json.loads((Path(__file__).resolve().parents[1] / "results/full/01_kmeans_cifar.json").read_text())
    assert committed["published"] == PUBLISHED
    assert all(entry["source"].startswith(STUDY) for entry in PUBLISHED.values())
    cells = json.loads((Path(__file__).resolve().parents[1] / "book/01_kmeans_cifar.ipynb").read_text())["cells"]
    code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    for entry in PUBLISHED.values():  # no study figure typed again in the chapter's code
        assert repr(entry["value"]) not in code, entry


def test_exercise_findings_come_from_the_committed_study_and_hang_together():
    from dcca_core.experiments.cifar_kmeans import exercise_findings

    found = exercise_findings()
    for metric in ("silhouette", "dunn_classic"):
        assert 0.0 < found[f"ex_seeds_{metric}_min"] <= found[f"ex_seeds_{metric}_max"] < 0.2
    for tag in ("0", "1e5", "1e4", "001"):
        loss, mse, penalty = (found[f"ex_l1_{tag}_{k}"] for k in ("loss", "mse", "l1_penalty"))
        assert loss == pytest.approx(mse + penalty, rel=1e-5)
    assert found["ex_l1_0_l1_penalty"] == 0.0 and found["ex_l1_0_mse"] < found["ex_l1_1e4_mse"]
    # λ = 0.01 switches the code off: the decoder can do no better than the mean training image
    assert found["ex_l1_001_zero_share"] == 1.0
    assert found["ex_l1_001_mse"] == pytest.approx(found["ex_train_pixel_variance"], rel=0.02)
    assert found["ex_contrast_standardised_eta2"] < found["ex_contrast_pixels_eta2"]


def test_exercise_findings_name_the_study_when_its_file_is_missing(tmp_path):
    from dcca_core.experiments.cifar_kmeans import exercise_findings

    with pytest.raises(FileNotFoundError, match="studies/ch1_exercises.py"):
        exercise_findings(root=tmp_path)
