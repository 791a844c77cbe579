import json
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


def test_clean_split_leaves_the_anomaly_digit_out_of_training():
    y_train = np.array([0, 1, 2, 0, 1, 2, 3])
    y_test = np.array([1, 0, 1, 3])
    idx, is_anomaly = ch3.anomaly_split(y_train, y_test, 1, "clean")
    assert idx.tolist() == [0, 2, 3, 5, 6]
    assert is_anomaly.tolist() == [True, False, True, False]


def test_one_class_split_trains_on_the_digit_only():
    y_train = np.array([0, 1, 2, 0, 1, 2])
    idx, is_anomaly = ch3.anomaly_split(y_train, np.array([1, 0, 1, 2]), 1, "one_class")
    assert idx.tolist() == [1, 4]
    assert is_anomaly.tolist() == [False, True, False, True]


def test_contamination_puts_back_a_fraction_of_the_anomaly_class():
    y_train = np.array([0] * 10 + [1] * 10)
    idx, _ = ch3.anomaly_split(y_train, np.array([0, 1]), 1, "clean", contamination=0.3, seed=4)
    assert len(idx) == 13 and (y_train[idx] == 1).sum() == 3 and np.all(np.diff(idx) > 0)
    full, _ = ch3.anomaly_split(y_train, np.array([0, 1]), 1, "clean", contamination=1.0)
    assert full.tolist() == list(range(20))


def test_max_train_draws_a_seeded_subset_of_the_allowed_indices():
    y_train = np.repeat(np.arange(10), 50)
    a, _ = ch3.anomaly_split(y_train, np.arange(10), 3, "clean", max_train=40, seed=1)
    b, _ = ch3.anomaly_split(y_train, np.arange(10), 3, "clean", max_train=40, seed=1)
    c, _ = ch3.anomaly_split(y_train, np.arange(10), 3, "clean", max_train=40, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert len(a) == 40 and np.all(y_train[a] != 3) and np.all(np.diff(a) > 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"protocol": "leave_one_out"}, "protocol"),
        ({"digit": 7}, "does not occur"),
        ({"contamination": 1.5}, "contamination"),
        ({"protocol": "one_class", "contamination": 0.1}, "clean"),
        ({"protocol": "paper"}, "protocol"),  # the paper reading trains nothing: `paper_reading`
        ({"max_train": 0}, "max_train"),
    ],
)
def test_bad_split_arguments_are_named(kwargs, message):
    args = {"digit": 1, "protocol": "clean", **kwargs}
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


def test_anomaly_run_scores_every_test_image_five_ways(mnist_small):
    X, y = mnist_small
    cfg = ch3.AEConfig(arch="conv", epochs=1, batch_size=64)
    run = ch3.anomaly_run(X[:200], y[:200], X[200:400], y[200:400], 1, cfg, protocol="clean", n_init=2, progress=False)
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
    assert [t.get_text() for t in fig3.axes[0].get_xticklabels()] == ["1", "2"]  # whole epochs, no 1.2, 1.4, ...
    long = pd.DataFrame({"model": ["CAE"] * 4, "epoch": [1, 10, 100, 200], "acc": [0.5, 0.8, 0.9, 0.95]})
    ax = ch3.plot_training_length(long).axes[0]
    assert ax.get_xscale() == "log" and [t.get_text() for t in ax.get_xticklabels()] == ["1", "10", "100", "200"]
    crowded = pd.DataFrame(
        {"model": ["CAE"] * 5, "epoch": [1, 10, 100, 150, 200], "acc": [0.5, 0.8, 0.9, 0.93, 0.95], "acc_sd": 0.01}
    )
    ax = ch3.plot_training_length(crowded).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "10", "100", "", "200"]  # 150 would overlap 200
    assert len(ax.collections) == 1  # the ± sd band


def test_cluster_scores_on_a_hand_worked_example():
    # fit codes on two axes; k-means (k=2) puts the centres at (1.5, 0) and (0, 2)
    fit = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 3.0]], dtype=np.float32)
    z = np.array([[3.0, 4.0], [0.0, 0.5]], dtype=np.float32)
    plain = ch3.cluster_scores(fit, z, 2, l2_model=False, n_init=2, device="cpu")
    # cosine (codes normalised after training): z/|z| = (0.6, 0.8) → v = 0.8; (0, 1) → v = 1
    assert plain["cluster_plain"] == pytest.approx([-0.8, -1.0], abs=1e-6)
    # raw projection onto the centre directions (1, 0) and (0, 1): max(3, 4) = 4 and 0.5, it grows with |z|
    assert plain["cluster_plain_raw"] == pytest.approx([-4.0, -0.5], abs=1e-6)
    l2 = ch3.cluster_scores(fit, z, 2, l2_model=True, n_init=2, device="cpu")
    assert set(l2) == {"cluster_l2"} and l2["cluster_l2"] == pytest.approx([-0.8, -1.0], abs=1e-6)


@pytest.fixture(scope="module")
def table2_pair(mnist_small, tmp_path_factory):
    """A plain and an l2 CAE trained for one epoch on 300 real MNIST images (the Table II pair)."""
    os.environ["DCCA_CHECKPOINT_DIR"] = str(tmp_path_factory.mktemp("pair"))
    X, y = mnist_small[0][:300], mnist_small[1][:300]
    cfg = ch3.AEConfig(arch="conv", epochs=1, batch_size=64)
    pair = [
        ch3.clustering_experiment(X, y, replace(cfg, bottleneck_norm=n), n_init=2, progress=False) for n in (None, "l2")
    ]
    return X, y, pair


def test_paper_reading_scores_the_training_images_with_each_digit_as_the_anomaly(table2_pair):
    X, y, (plain, l2) = table2_pair
    runs = ch3.paper_reading(plain, l2, X, y, [0, 7], k=9, n_init=2)
    assert [r.digit for r in runs] == [0, 7] and all(r.protocol == "paper" and r.n_train == 300 for r in runs)
    for run in runs:
        assert np.array_equal(run.is_anomaly, y == run.digit)
        assert set(run.scores) == set(ch3.SCORE_NAMES)
        for name, score in run.scores.items():
            assert score.shape == (300,) and np.isfinite(score).all()
            assert run.auc[name] == pytest.approx(roc_auc(run.is_anomaly.astype(int), score))
    # nothing depends on the digit but the mask: one k-means per score serves all of them
    assert all(np.array_equal(runs[0].scores[n], runs[1].scores[n]) for n in runs[0].scores)
    assert runs[0].auc["cluster_l2"] != runs[1].auc["cluster_l2"]


def test_paper_reading_refuses_other_images_or_a_swapped_pair(table2_pair):
    X, y, (plain, l2) = table2_pair
    with pytest.raises(ValueError, match="trained on"):
        ch3.paper_reading(plain, l2, X[:100], y[:100], [0])
    with pytest.raises(ValueError, match="bottleneck"):
        ch3.paper_reading(l2, plain, X, y, [0])
    with pytest.raises(ValueError, match="digit 11"):
        ch3.paper_reading(plain, l2, X, y, [11])


def _fake_result(label, acc, nmi=0.5, epochs=3, loss=0.1):
    from types import SimpleNamespace

    norm = label.split("-", 1)[1] if "-" in label else None
    arch = "conv" if label.startswith("CAE") else "dense"
    cfg = ch3.AEConfig(arch=arch, bottleneck_norm=norm, epochs=epochs)
    return SimpleNamespace(config=cfg, acc=acc, nmi=nmi, history=SimpleNamespace(epoch_loss=[loss]))


def test_over_seeds_gives_mean_and_sample_sd_of_the_shared_metrics():
    out = ch3.over_seeds([{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 2.0, "c": 1.0}])
    assert out == pytest.approx({"a": 2.0, "a_std": np.sqrt(2.0), "b": 2.0, "b_std": 0.0})
    assert ch3.over_seeds([{"a": 0.5}]) == {"a": 0.5}  # one seed: no sd
    with pytest.raises(ValueError, match="at least one seed"):
        ch3.over_seeds([])


def test_l2_margin_is_paired_by_seed_with_a_t_interval():
    by_seed = [[_fake_result("CAE", a), _fake_result("CAE-l2", a + d)] for a, d in ((0.8, 0.1), (0.7, 0.2), (0.9, 0.3))]
    m = ch3.l2_margin(by_seed)
    half = 4.302652729911275 * 0.1 / np.sqrt(3)  # t(0.975, 2) · sd / √n
    assert m["l2_margin_cae"] == pytest.approx(0.2) and m["l2_margin_cae_std"] == pytest.approx(0.1)
    assert m["l2_margin_cae_ci_low"] == pytest.approx(0.2 - half) and m["l2_margin_cae_ci_high"] == pytest.approx(
        0.2 + half
    )
    one = ch3.l2_margin(by_seed[:1])
    assert one == pytest.approx({"l2_margin_cae": 0.1})  # one seed: no spread, no interval
    assert ch3.l2_margin(by_seed, plain="AE") == {}


def test_clustering_summary_and_findings_come_from_the_numbers():
    by_seed = [
        [_fake_result("CAE", 0.84), _fake_result("CAE-l2", 0.95)],
        [_fake_result("CAE", 0.86), _fake_result("CAE-l2", 0.952)],
    ]
    table = ch3.clustering_summary(by_seed)
    assert table.loc["CAE-l2", "acc"] == pytest.approx(0.951) and table.loc["CAE", "seeds"] == 2
    assert table.loc["CAE", "acc_sd"] == pytest.approx(np.std([0.84, 0.86], ddof=1))
    metrics = {
        **ch3.over_seeds([{"acc_cae_l2": 0.95, "acc_cae": 0.84}, {"acc_cae_l2": 0.952, "acc_cae": 0.86}]),
        **ch3.l2_margin(by_seed),
        "auc_cae_l2_cluster": 0.70,
    }
    text = ch3.findings(metrics, n_seeds=2)
    assert "CAE-$l_2$ 95.1 ± 0.1 % (paper 95.1 %: *reproduced*)" in text
    assert "the plain CAE 85.0 ± 1.4 % (paper 84.9 %: *reproduced*)" in text
    assert "CAE-$l_2$ cluster score 0.700 (paper 0.908: *not reproduced*)" in text
    assert "adds +10.1 points" in text and "paper's margin is +10.2" in text


def test_findings_of_a_smoke_run_give_no_verdict():
    text = ch3.findings({"acc_cae_l2": 0.3}, n_seeds=1, verdicts=False)
    assert "CAE-$l_2$ 30.0 % (paper 95.1 %: *smoke run, no verdict*)" in text and "not reproduced" not in text


def test_record_results_averages_the_seeds_and_names_the_seeds_of_the_rest(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from dcca_core.results import ChapterRun, read_results
    from dcca_core.training.loop import TrainHistory

    monkeypatch.setenv("DCCA_RESULTS_DIR", str(tmp_path))

    def result(label, acc, epochs=3):
        norm = label.split("-", 1)[1] if "-" in label else None
        cfg = ch3.AEConfig(arch="conv" if label.startswith("CAE") else "dense", bottleneck_norm=norm, epochs=epochs)
        history = TrainHistory(epoch_loss=[0.1] * epochs, seconds=2.5)
        return SimpleNamespace(config=cfg, acc=acc, nmi=acc / 2, clusters=np.zeros(7, int), history=history)

    def runs(protocol, a, n_test=4):
        auc = {"cluster_l2": a, "cluster_plain": a - 0.1, "recon_l2": 0.5, "recon_plain": 0.4}
        return [ch3.AnomalyRun(d, protocol, np.zeros(n_test, bool), {}, auc, train_seconds=1.0) for d in (0, 1)]

    clustering = {
        0: [result("CAE", 0.8), result("CAE-l2", 0.9), result("CAE-batch", 0.6)],
        1: [result("CAE", 0.7), result("CAE-l2", 0.95)],
    }
    curve = pd.DataFrame({"model": ["CAE-l2", "CAE-l2"], "epoch": [1, 3], "acc": [0.5, 0.9], "nmi": [0.3, 0.45]})
    run = ChapterRun("03_l2_autoencoder", "smoke", 0, "cpu", params={"n_seeds": 2, "anomaly_k": 9, "one_class_k": 1})
    path, metrics = ch3.record_results(
        run,
        clustering_by_seed=clustering,
        paper_by_seed={0: runs("paper", 0.9), 1: runs("paper", 0.7)},
        one_class_by_seed={0: runs("one_class", 0.8), 1: runs("one_class", 0.6)},
        ablation_run=[0],
        clean_runs=runs("clean", 0.75),
        length_curve=curve,
    )
    record = read_results(path)
    assert record["metrics"] == pytest.approx(metrics)
    assert metrics["acc_cae_l2"] == pytest.approx(0.925) and metrics["acc_cae_l2_std"] == pytest.approx(
        np.std([0.9, 0.95], ddof=1)
    )
    assert metrics["auc_cae_l2_cluster"] == pytest.approx(0.8) and metrics["oneclass_auc_cae_l2_cluster"] == 0.7
    assert metrics["l2_margin_cae"] == pytest.approx(0.175) and "l2_margin_ae" not in metrics
    assert metrics["acc_cae_batch"] == 0.6 and "acc_cae_batch_std" not in metrics  # one ablation seed
    assert metrics["clean_auc_cae_l2_cluster"] == 0.75 and metrics["longest_acc_cae_l2"] == 0.9
    assert record["metric_seeds"]["acc_cae_batch"] == [0] and record["metric_seeds"]["clean_auc_recon"] == [0]
    assert "acc_cae" not in record["metric_seeds"]  # every seed's metric
    extra = record["extra"]
    assert set(extra["anomaly_per_digit"]) == {"0", "1", "mean"} and set(extra["anomaly_per_digit_by_seed"]) == {
        "0",
        "1",
    }
    assert extra["n_images"] == {"clustering": 7, "test_scored": 4} and "k=9" in extra["anomaly_protocol"]
    assert extra["training"]["clustering_seed1"]["CAE-l2"] == {"seconds": 2.5, "reused": False}
    assert set(record["published"]) <= set(metrics) and "acc_cae_l2" in record["published"]
    with pytest.raises(ValueError, match="seed 5 has no clustering results"):
        ch3.record_results(replace(run, seed=5), clustering_by_seed=clustering, paper_by_seed={}, one_class_by_seed={})


def _budget_rows():
    """Rows as studies/ch3_paper_budget.py writes them: a few snapshots per model and seed."""
    rows = []
    for seed, (cae, cae_l2, ae, ae_l2) in enumerate(
        [(0.86, 0.95, 0.80, 0.94), (0.90, 0.94, 0.84, 0.94), (0.92, 0.96, 0.79, 0.95)]
    ):
        for model, final, epochs, precision in (
            ("CAE", cae, (100, 200), "bf16"),
            ("CAE-l2", cae_l2, (100, 200), "bf16"),
            ("AE", ae, (50, 100), "fp32"),
            ("AE-l2", ae_l2, (50, 100), "fp32"),
        ):
            for epoch in epochs:
                acc = final - (0.05 if epoch == epochs[0] else 0.0)
                rows.append(
                    dict(
                        data="mnist",
                        model=model,
                        seed=seed,
                        precision=precision,
                        epoch=epoch,
                        loss=0.01,
                        acc=acc,
                        nmi=acc - 0.1,
                        train_seconds=60.0 * epoch,
                    )
                )
    extra = [  # (data, model, precision, acc): one seed-0 row at 200 epochs each
        (None, "CAE-batch", "bf16", 0.70),  # written before the data field: MNIST's
        ("mnist", "CAE-l2", "fp32", 0.10),  # not the full profile's precision
        ("fashion", "CAE-l2", "bf16", 0.63),
    ]
    for data, model, precision, acc in extra:
        row = dict(model=model, seed=0, precision=precision, epoch=200, loss=0.01, acc=acc, nmi=0.6, train_seconds=1.0)
        rows.append(row if data is None else {"data": data, **row})
    return rows


def _budget_file(root, rows, runs=()):
    path = root / "studies" / "results" / f"{ch3.BUDGET_STUDY}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"rows": rows, "runs": list(runs)}))


def _reading_run(model, seed, aucs, epochs=200, precision="bf16"):
    """A run entry with Table IV's paper reading on two digits (score → AUC per digit)."""
    return {
        "model": model,
        "seed": seed,
        "precision": precision,
        "epochs": epochs,
        "paper_reading": {"k": 9, "digits": [0, 1], "auc": aucs},
    }


def test_budget_record_reads_table_iv_from_the_runs_that_recorded_it(tmp_path):
    runs = [
        _reading_run("CAE-l2", 0, {"cluster_l2": [0.90, 0.80], "recon_l2": [0.6, 0.7]}),
        _reading_run("CAE-l2", 1, {"cluster_l2": [0.95, 0.85], "recon_l2": [0.6, 0.8]}),
        _reading_run(
            "CAE", 0, {"cluster_plain": [0.7, 0.8], "cluster_plain_raw": [0.6, 0.6], "recon_plain": [0.5, 0.6]}
        ),
        _reading_run("CAE-l2", 2, {"cluster_l2": [0.1, 0.1], "recon_l2": [0.1, 0.1]}, epochs=20),  # not the budget
    ]
    _budget_file(tmp_path, _budget_rows(), runs)
    study = ch3.budget_study(tmp_path)
    assert len(study.attrs["readings"]) == 3 * 2 * 2 + 3 * 2  # CAE-l2: 3 runs × 2 scores × 2 digits; CAE: 3 scores
    m = ch3.budget_record(study)["metrics"]
    assert m["auc_cae_l2_cluster"] == pytest.approx(0.875)  # seeds 0.85 and 0.90; the 20-epoch run left out
    assert m["auc_cae_l2_cluster_std"] == pytest.approx(0.0353553, rel=1e-5)
    assert m["auc_recon"] == pytest.approx(0.675) and m["auc_cae_cluster"] == pytest.approx(0.75)
    assert "auc_cae_cluster_std" not in m  # one seed
    record = ch3.budget_record(study)
    assert {"auc_cae_l2_cluster", "auc_recon", "auc_cae_cluster"} <= set(record["published"])
    assert record["metric_seeds"]["auc_cae_l2_cluster"] == [0, 1]


def test_reading_aucs_score_each_digit_as_the_anomaly_class_once():
    y = np.array([0, 0, 1, 1, 2, 2])
    scores = {"s": np.array([0.9, 0.8, 0.1, 0.2, 0.3, 0.4])}  # high for the 0s
    aucs = ch3.reading_aucs(scores, y, [0, 1])
    assert aucs["s"][0] == pytest.approx(1.0) and aucs["s"][1] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="digit 7"):
        ch3.reading_aucs(scores, y, [7])


def test_budget_record_takes_each_models_paper_budget_over_its_seeds_and_pairs_the_published_figures(tmp_path):
    from dcca_core.claims import claims_from_record

    _budget_file(tmp_path, _budget_rows())
    study = ch3.budget_study(tmp_path)
    assert set(study["data"]) == {"mnist", "fashion"}  # a row from before the data field is MNIST's
    record = ch3.budget_record(study)
    m = record["metrics"]
    assert m["acc_cae"] == pytest.approx(0.8933333) and m["acc_cae_std"] == pytest.approx(0.0305505, rel=1e-5)
    assert m["acc_cae_l2"] == pytest.approx(0.95)  # the fp32 row at 200 epochs is not the full profile's precision
    assert m["acc_ae"] == pytest.approx(0.81) and m["nmi_ae"] == pytest.approx(0.71)  # 100 epochs, not 50
    assert m["acc_cae_batch"] == pytest.approx(0.70) and "acc_cae_batch_std" not in m  # one seed: no sd
    assert record["metric_seeds"]["acc_cae_l2"] == [0, 1, 2] and record["metric_seeds"]["acc_cae_batch"] == [0]
    assert m["fashion_acc_cae_l2"] == pytest.approx(0.63) and "fashion_acc_cae_l2" not in record["published"]
    assert m["l2_margin_cae"] == pytest.approx((0.09 + 0.04 + 0.04) / 3)  # paired by seed
    assert m["l2_margin_cae_ci_low"] < m["l2_margin_cae"] < m["l2_margin_cae_ci_high"]
    assert record["train_minutes"]["acc_cae"] == pytest.approx(200.0)
    claims = claims_from_record(record).set_index("claim")
    assert list(claims.index) == ["acc_ae", "acc_ae_l2", "acc_cae", "acc_cae_l2", "acc_cae_batch"]
    assert claims.loc["acc_cae_batch", "seeds"] == "0" and claims.loc["acc_cae_l2", "seeds"] == "0, 1, 2"
    assert claims.loc["acc_ae_l2", "verdict"] == "exceeded"  # 0.943 ± 0.006 against 0.902


def test_budget_curve_averages_each_snapshot_over_the_seeds_that_reached_it(tmp_path):
    _budget_file(tmp_path, _budget_rows())
    curve = ch3.budget_curve(ch3.budget_study(tmp_path))
    assert curve[["model", "epoch"]].values.tolist() == [["CAE", 100], ["CAE", 200], ["CAE-l2", 100], ["CAE-l2", 200]]
    last = curve.iloc[-1]
    assert last["acc"] == pytest.approx(0.95) and last["acc_sd"] == pytest.approx(0.01) and last["seeds"] == 3
    with pytest.raises(ValueError, match="no rows"):
        ch3.budget_curve(ch3.budget_study(tmp_path), models=["CAE-layer"])


def test_budget_study_names_the_script_when_the_file_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="python studies/ch3_paper_budget.py"):
        ch3.budget_study(tmp_path)
