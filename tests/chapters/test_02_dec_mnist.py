"""Chapter 2 (DEC/IDEC on MNIST): the smoke run writes every metric the issue names, in sane ranges."""

import math

import pytest

from dcca_core.experiments.dec_mnist import METHODS, PUBLISHED

CHAPTER = "02_dec_mnist"


@pytest.mark.slow
def test_results_have_every_method_and_metric_in_range(run_chapter):
    results = run_chapter(CHAPTER)
    metrics = results["metrics"]
    for method in METHODS:
        for metric in ("accuracy", "nmi", "ari"):
            value = metrics[f"{method}_{metric}"]
            assert value is not None and math.isfinite(value), f"{method}_{metric}"
            low = -1.0 if metric == "ari" else 0.0
            assert low <= value <= 1.0, f"{method}_{metric} = {value}"
        # 10 clusters of real digits: far better than the 1/10 of a random labelling
        assert metrics[f"{method}_accuracy"] > 0.2, method
    assert results["profile"] == "smoke" and results["params"]["n_samples"] <= 5000


@pytest.mark.slow
def test_published_figures_sit_beside_our_metrics(run_chapter):
    results = run_chapter(CHAPTER)
    assert set(results["published"]) == set(PUBLISHED)
    for key, pub in results["published"].items():
        assert key in results["metrics"] and 0 < pub["value"] < 1 and pub["source"]


@pytest.mark.slow
def test_timings_and_dec_progress_are_recorded(run_chapter):
    results = run_chapter(CHAPTER)
    (run,) = results["extra"]["runs"]
    for stage in ("kmeans_pixels", "pretrain", "ae_kmeans", "dec", "idec", "ae_umap"):
        assert run["seconds"][stage] > 0 and run["cpu_seconds"][stage] > 0, stage  # every stage does work
    assert 0 < run["dec_iterations"] <= results["params"]["max_iter"]
    assert 0 < run["idec_iterations"] <= results["params"]["max_iter"]


# Fast tests of the chapter's pipeline helpers (dcca_core.experiments.dec_mnist)

from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402

from dcca_core.experiments import dec_mnist as ch2  # noqa: E402


def test_dec_scale_gives_unit_mean_square_per_feature():
    images, _, _ = ch2.load_images("mnist", 200)
    x = ch2.dec_scale(images)
    assert x.shape == (200, 784) and x.dtype == np.float32
    assert np.mean(np.sum(x.astype(np.float64) ** 2, axis=1) / 784) == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(ValueError, match="all zero"):
        ch2.dec_scale(np.zeros((3, 4, 4), np.uint8))


def test_load_images_draws_a_fixed_sorted_subset():
    a_img, a_y, a_idx = ch2.load_images("mnist", 300, subset_seed=0)
    b_img, b_y, b_idx = ch2.load_images("mnist", 300, subset_seed=0)
    assert np.array_equal(a_idx, b_idx) and np.all(np.diff(a_idx) > 0) and np.array_equal(a_y, b_y)
    assert a_img.shape == (300, 28, 28) and len(np.unique(a_y)) == 10
    with pytest.raises(ValueError, match="dataset"):
        ch2.load_images("svhn", 100)
    with pytest.raises(ValueError, match="n_samples"):
        ch2.load_images("mnist", 5)


def test_confidence_extremes_picks_most_and_least_confident_per_cluster():
    q = np.array([[0.9, 0.1], [0.6, 0.4], [0.7, 0.3], [0.2, 0.8], [0.45, 0.55], [0.55, 0.45], [0.3, 0.7]])
    idx, cluster = ch2.confidence_extremes(q, n_per_cluster=1)
    assert idx.tolist() == [0, 5, 3, 4] and cluster.tolist() == [0, 0, 1, 1]
    # cluster 0 has 4 members (conf .9 .7 .6 .55): two most then two least, in decreasing confidence
    idx, cluster = ch2.confidence_extremes(q, n_per_cluster=2)
    assert idx[cluster == 0].tolist() == [0, 2, 1, 5]
    # cluster 1 has 3 members (conf .8 .7 .55): each shown once
    assert idx[cluster == 1].tolist() == [3, 6, 4]


def test_metrics_dict_and_tables_average_over_seeds():
    def fake(acc):
        return SimpleNamespace(metrics={m: {"accuracy": acc, "nmi": acc / 2, "ari": acc / 4} for m in ch2.METHODS})

    metrics = ch2.metrics_dict([fake(0.8), fake(0.9)], prefix="fashion_")
    assert metrics["fashion_dec_accuracy"] == pytest.approx(0.85)
    assert metrics["fashion_dec_accuracy_std"] == pytest.approx(np.std([0.8, 0.9], ddof=1))
    assert "dec_accuracy_std" not in ch2.metrics_dict([fake(0.8)])
    table = ch2.published_table(ch2.metrics_dict([fake(0.8)]), ch2.PUBLISHED, ch2.REFERENCE_ONLY)
    assert table.loc["dec_accuracy", "difference"] == pytest.approx(0.8 - 0.843)
    assert np.isnan(table.loc["dcec_accuracy", "ours"]) or table.loc["dcec_accuracy", "ours"] is None


def test_pipeline_config_rejects_swapped_dec_and_idec():
    from dcca_core.training.dec import DECConfig

    with pytest.raises(ValueError, match="IDEC config needs gamma"):
        ch2.PipelineConfig(idec=DECConfig(gamma=0.0))
    with pytest.raises(ValueError, match="DEC config needs gamma = 0"):
        ch2.PipelineConfig(dec=DECConfig(gamma=0.1))


def test_with_autoencoder_changes_only_the_named_autoencoder_settings():
    from dcca_core.training.sdae import SDAEConfig

    config = ch2.PipelineConfig(
        sdae=SDAEConfig(layerwise_epochs=0, finetune_epochs=50, finetune_corruption=0.0), kmeans_n_init=7
    )
    fashion = ch2.with_autoencoder(config, layerwise_epochs=5, finetune_epochs=20, finetune_corruption=0.2)
    assert (fashion.sdae.layerwise_epochs, fashion.sdae.finetune_epochs, fashion.sdae.finetune_corruption) == (
        5,
        20,
        0.2,
    )
    assert config.sdae.finetune_epochs == 50 and config.sdae.layerwise_epochs == 0  # the original is untouched
    assert fashion.sdae.dims == config.sdae.dims and fashion.kmeans_n_init == 7
    assert fashion.dec == config.dec and fashion.idec == config.idec
    assert ch2.with_autoencoder(config) == config
    with pytest.raises(ValueError, match="finetune_epochs"):
        ch2.with_autoencoder(config, finetune_epochs=-1)
    with pytest.raises(ValueError, match=r"unknown autoencoder setting\(s\) \['epochs'\]"):
        ch2.with_autoencoder(config, epochs=20)


def test_pretraining_figure_has_a_layer_wise_panel_only_when_there_was_that_stage():
    import matplotlib.pyplot as plt

    from dcca_core.training import TrainHistory
    from dcca_core.training.sdae import PretrainResult

    finetune = TrainHistory(epoch_loss=[0.3, 0.2, 0.15])
    layered = PretrainResult(
        None, [TrainHistory(epoch_loss=[1.0, 0.5]), TrainHistory(epoch_loss=[0.4, 0.3])], finetune, "key"
    )
    fig = ch2.plot_pretraining(layered)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2 and fig.axes[1].get_title() == "End-to-end fine-tuning"
    plain = PretrainResult(None, [TrainHistory(), TrainHistory()], finetune, "key")
    fig2 = ch2.plot_pretraining(plain)
    assert len(fig2.axes) == 1 and "no layer-wise stage" in fig2.axes[0].get_title()
    assert list(fig2.axes[0].lines[0].get_ydata()) == [0.3, 0.2, 0.15]
    plt.close("all")
