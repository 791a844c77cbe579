import os
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from dcca_core.data import load_mnist
from dcca_core.experiments import l2_autoencoder as ch3
from dcca_core.metrics import roc_auc


@pytest.fixture(autouse=True)
def _private_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("DCCA_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))


@pytest.fixture(scope="module")
def mnist_small():
    """A fixed, small slice of the real MNIST test split (scaled to [0, 1])."""
    x, y = load_mnist("test")
    return ch3.scale_images(x[:600]), y[:600]


def test_paper_split_leaves_the_anomaly_digit_out_of_training():
    y_train = np.array([0, 1, 2, 0, 1, 2, 3])
    y_test = np.array([1, 0, 1, 3])
    idx, is_anomaly = ch3.anomaly_split(y_train, y_test, 1, "paper")
    assert idx.tolist() == [0, 2, 3, 5, 6]
    assert is_anomaly.tolist() == [True, False, True, False]


def test_one_class_split_trains_on_the_digit_only():
    y_train = np.array([0, 1, 2, 0, 1, 2])
    idx, is_anomaly = ch3.anomaly_split(y_train, np.array([1, 0, 1, 2]), 1, "one_class")
    assert idx.tolist() == [1, 4]
    assert is_anomaly.tolist() == [False, True, False, True]


def test_contamination_puts_back_a_fraction_of_the_anomaly_class():
    y_train = np.array([0] * 10 + [1] * 10)
    idx, _ = ch3.anomaly_split(y_train, np.array([0, 1]), 1, "paper", contamination=0.3, seed=4)
    assert len(idx) == 13 and (y_train[idx] == 1).sum() == 3 and np.all(np.diff(idx) > 0)
    full, _ = ch3.anomaly_split(y_train, np.array([0, 1]), 1, "paper", contamination=1.0)
    assert full.tolist() == list(range(20))


def test_max_train_draws_a_seeded_subset_of_the_allowed_indices():
    y_train = np.repeat(np.arange(10), 50)
    a, _ = ch3.anomaly_split(y_train, np.arange(10), 3, "paper", max_train=40, seed=1)
    b, _ = ch3.anomaly_split(y_train, np.arange(10), 3, "paper", max_train=40, seed=1)
    c, _ = ch3.anomaly_split(y_train, np.arange(10), 3, "paper", max_train=40, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert len(a) == 40 and np.all(y_train[a] != 3) and np.all(np.diff(a) > 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"protocol": "leave_one_out"}, "protocol"),
        ({"digit": 7}, "does not occur"),
        ({"contamination": 1.5}, "contamination"),
        ({"protocol": "one_class", "contamination": 0.1}, "paper"),
        ({"max_train": 0}, "max_train"),
    ],
)
def test_bad_split_arguments_are_named(kwargs, message):
    args = {"digit": 1, "protocol": "paper", **kwargs}
    digit, protocol = args.pop("digit"), args.pop("protocol")
    with pytest.raises(ValueError, match=message):
        ch3.anomaly_split(np.array([0, 1, 2]), np.array([0, 1]), digit, protocol, **args)


def test_stratified_subset_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [600, 300, 100])
    idx = ch3.stratified_subset(y, 100, seed=0)
    assert np.bincount(y[idx]).tolist() == [60, 30, 10] and np.all(np.diff(idx) > 0)
    assert len(ch3.stratified_subset(y, None)) == 1000


def test_scale_images_and_fingerprint():
    img = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    assert np.allclose(ch3.scale_images(img), [[[0.0, 1.0], [0.2, 0.4]]])
    with pytest.raises(ValueError, match="uint8"):
        ch3.scale_images(img.astype(np.float32))


def test_config_labels_and_models():
    assert ch3.AEConfig(arch="conv", bottleneck_norm="l2").label == "CAE-l2"
    assert ch3.AEConfig(arch="dense").label == "AE"
    with pytest.raises(ValueError, match="arch"):
        ch3.AEConfig(arch="rnn")
    dense = ch3.build_autoencoder(ch3.AEConfig(arch="dense", bottleneck_norm="l2"))
    assert dense.dims == [784, 500, 500, 2000, 10]
    z = ch3.build_autoencoder(ch3.AEConfig(arch="conv", bottleneck_norm="l2")).encode(torch.rand(3, 28, 28))
    assert torch.allclose(z.norm(dim=1), torch.ones(3), atol=1e-6)


def test_tables_and_metrics_average_over_digits():
    mask = np.array([True, False])
    runs = [
        ch3.AnomalyRun(d, "paper", mask, {}, {"cluster_l2": a, "cluster_plain": b, "recon_l2": c, "recon_plain": e})
        for d, a, b, c, e in [(0, 0.9, 0.8, 0.7, 0.6), (1, 0.7, 0.6, 0.5, 0.4)]
    ]
    table = ch3.auc_table(runs)
    assert table.loc["mean", "cluster_l2"] == pytest.approx(0.8) and list(table.index) == [0, 1, "mean"]
    metrics = ch3.anomaly_metrics(runs, prefix="oneclass_")
    assert metrics == pytest.approx(
        {
            "oneclass_auc_cae_l2_cluster": 0.8,
            "oneclass_auc_cae_cluster": 0.7,
            "oneclass_auc_recon": 0.6,
            "oneclass_auc_recon_plain": 0.5,
        }
    )
    assert set(ch3.PUBLISHED) >= {"acc_cae_l2", "auc_cae_l2_cluster", "auc_recon", "acc_cae_batch"}


def test_extreme_indices():
    hi, lo = ch3.extreme_indices(np.array([0.1, 0.9, 0.5, 0.3, 0.7]), n=2)
    assert hi.tolist() == [1, 4] and lo.tolist() == [0, 3]


def test_training_is_checkpointed_and_reused(mnist_small):
    X = mnist_small[0][:128]
    cfg = ch3.AEConfig(arch="conv", bottleneck_norm="l2", epochs=1, batch_size=64)
    m1, h1 = ch3.train_autoencoder(X, cfg, progress=False)
    m2, h2 = ch3.train_autoencoder(X, cfg, progress=False)
    assert h2.resumed_from_epoch == 1 and h2.epoch_loss == h1.epoch_loss
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=False):
        assert torch.equal(a, b)


def test_training_log_tells_trained_from_reused_models(mnist_small):
    X, y = mnist_small[0][:128], mnist_small[1][:128]
    cfg = ch3.AEConfig(arch="dense", epochs=1, batch_size=64)
    first = ch3.clustering_experiment(X, y, cfg, n_init=1, progress=False)
    second = ch3.clustering_experiment(X, y, cfg, n_init=1, progress=False)
    run = ch3.AnomalyRun(3, "paper", np.array([True, False]), {}, train_seconds=2.5, reused=True)
    log = ch3.training_log(clustering=[first], again=[second], paper=[run])
    assert log["clustering"]["AE"]["reused"] is False and log["clustering"]["AE"]["seconds"] > 0
    assert log["again"]["AE"] == {"seconds": first.history.seconds, "reused": True}  # the stored cost
    assert log["paper"] == {"3": {"seconds": 2.5, "reused": True}} and log["reused_any"] is True
    assert ch3.training_log(clustering=[first])["reused_any"] is False
    old = ch3.AnomalyRun(4, "paper", np.array([True, False]), {}, train_seconds=0.0, reused=True)
    assert ch3.training_log(paper=[old])["paper"]["4"] == {"seconds": None, "reused": True}  # unknown, not 0


def test_clustering_experiment_beats_chance_on_real_digits(mnist_small):
    X, y = mnist_small
    cfg = ch3.AEConfig(arch="conv", bottleneck_norm="l2", epochs=1, batch_size=32)
    result = ch3.clustering_experiment(X[:300], y[:300], cfg, n_init=3, progress=False)
    assert result.codes.shape == (300, 10)
    assert np.allclose(np.linalg.norm(result.codes, axis=1), 1.0, atol=1e-5)
    assert 0.3 < result.acc <= 1.0 and 0.15 < result.nmi <= 1.0  # chance is ≈ 0.12 accuracy, ≈ 0.02 NMI
    table = ch3.clustering_table([result])
    assert table.loc["CAE-l2", "acc"] == pytest.approx(result.acc)
    assert ch3.clustering_metrics([result]) == {"acc_cae_l2": result.acc, "nmi_cae_l2": result.nmi}


def test_training_length_curve_passes_through_the_shorter_runs(mnist_small, tmp_path, monkeypatch):
    """The curve's point at epoch e is the clustering experiment trained for e epochs, bit for bit."""
    X, y = mnist_small[0][:256], mnist_small[1][:256]
    cfg = ch3.AEConfig(arch="conv", bottleneck_norm="l2", epochs=99, batch_size=64)
    curve = ch3.training_length_curve(X, y, cfg, [3, 1], n_init=2, progress=False)
    assert curve["epoch"].tolist() == [1, 3] and (curve["model"] == "CAE-l2").all()
    assert curve["seconds"].is_monotonic_increasing and (curve["seconds"] > 0).all()
    private = os.environ["DCCA_CHECKPOINT_DIR"]
    monkeypatch.setenv("DCCA_CHECKPOINT_DIR", str(tmp_path / "fresh"))  # trained from scratch, not reused
    for epoch in (1, 3):
        direct = ch3.clustering_experiment(X, y, replace(cfg, epochs=epoch), n_init=2, progress=False)
        assert direct.history.resumed_from_epoch == {1: 0, 3: 1}[epoch]  # 3 extends the fresh 1-epoch run
        row = curve.set_index("epoch").loc[epoch]
        assert row["acc"] == direct.acc and row["nmi"] == direct.nmi
        assert row["loss"] == direct.history.epoch_loss[-1]
    monkeypatch.setenv("DCCA_CHECKPOINT_DIR", private)
    again = ch3.training_length_curve(X, y, cfg, [1, 3], n_init=2, progress=False)  # from the checkpoint
    assert again["reused"].all() and not curve["reused"].any()
    pd.testing.assert_frame_equal(again.drop(columns="reused"), curve.drop(columns="reused"))
    assert ch3.length_metrics(curve) == {
        "longest_acc_cae_l2": curve["acc"].iloc[-1],
        "longest_nmi_cae_l2": curve["nmi"].iloc[-1],
    }
    with pytest.raises(ValueError, match="eval_epochs"):
        ch3.training_length_curve(X, y, cfg, [0, 2], progress=False)
    with pytest.raises(ValueError, match="labels"):
        ch3.training_length_curve(X, y[:10], cfg, [1], progress=False)


def test_anomaly_run_scores_every_test_image_four_ways(mnist_small):
    X, y = mnist_small
    cfg = ch3.AEConfig(arch="conv", epochs=1, batch_size=64)
    run = ch3.anomaly_run(X[:200], y[:200], X[200:400], y[200:400], 1, cfg, protocol="paper", n_init=2, progress=False)
    assert run.n_train == int((y[:200] != 1).sum())
    assert set(run.scores) == set(ch3.SCORE_NAMES)
    assert np.array_equal(run.is_anomaly, y[200:400] == 1)
    for name, score in run.scores.items():
        assert score.shape == (200,) and np.isfinite(score).all()
        assert run.auc[name] == pytest.approx(roc_auc(run.is_anomaly.astype(int), score))
    assert run.scores["cluster_l2"].min() >= -1 - 1e-6 and run.scores["cluster_l2"].max() <= 1 + 1e-6


def test_plots_return_figures(mnist_small):
    import matplotlib

    matplotlib.use("Agg")
    X, y = mnist_small
    runs = [
        ch3.AnomalyRun(d, "paper", np.array([True, False]), {}, {"cluster_l2": 0.9, "recon_l2": 0.6}) for d in (0, 1)
    ]
    fig = ch3.plot_auc_bars(ch3.auc_table(runs), published={"cluster_l2": 0.908})
    assert len(fig.axes) == 1
    fig2 = ch3.plot_extremes(X[:50], np.linspace(0, 1, 50), y[:50], n=4)
    assert len(fig2.axes) == 8
    curve = pd.DataFrame(
        {"model": ["CAE", "CAE", "CAE-l2", "CAE-l2"], "epoch": [1, 2, 1, 2], "acc": [0.5, 0.6, 0.55, 0.7]}
    )
    fig3 = ch3.plot_training_length(curve, published={"CAE-l2": 0.95})
    assert [line.get_label() for line in fig3.axes[0].lines] == ["CAE", "CAE-l2", "CAE-l2, published"]
