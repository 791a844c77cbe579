"""Chapter 2's bookkeeping (dcca_core.experiments.dec_mnist): summaries and the results record."""

from types import SimpleNamespace

import numpy as np
import pytest

from dcca_core.experiments import dec_mnist as ch2
from dcca_core.results import ChapterRun, read_results


def _run(seed, accuracy, dataset="mnist"):
    """A stand-in for a PipelineRun: every method at `accuracy`, DEC 0.1 above it."""
    metrics = {m: {"accuracy": accuracy, "nmi": accuracy / 2, "ari": accuracy / 3} for m in ch2.METHODS}
    metrics["dec"] = {"accuracy": accuracy + 0.1, "nmi": 0.5, "ari": 0.4}
    clusterer = SimpleNamespace(n_iter_=7, history_=SimpleNamespace(converged=True))
    return SimpleNamespace(
        dataset=dataset,
        seed=seed,
        metrics=metrics,
        seconds={"dec": 1.0},
        cpu_seconds={"dec": 0.9},
        pretrain=SimpleNamespace(checkpoint_key=f"sdae-{seed}", reused=seed > 0),
        dec=clusterer,
        idec=clusterer,
    )


def test_metrics_are_means_over_seeds_with_a_sample_sd():
    metrics = ch2.metrics_dict([_run(0, 0.8), _run(1, 0.6)])
    assert metrics["dec_accuracy"] == pytest.approx(0.8) and metrics["dec_accuracy_std"] == pytest.approx(
        np.std([0.9, 0.7], ddof=1)
    )
    assert "dec_accuracy_std" not in ch2.metrics_dict([_run(0, 0.8)])  # one seed: no sd


def test_record_results_pairs_fashion_figures_only_when_fashion_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("DCCA_RESULTS_DIR", str(tmp_path))
    run = ChapterRun("02_dec_mnist", "smoke", 0, "cpu", params={"n_seeds": 2})
    path, metrics, published = ch2.record_results(run, [_run(0, 0.8), _run(1, 0.6)])
    record = read_results(path)
    assert record["metrics"] == pytest.approx(metrics) and "metric_seeds" not in record
    assert set(published) == set(ch2.PUBLISHED) and not any(k.startswith("fashion_") for k in metrics)
    assert [r["autoencoder_reused"] for r in record["extra"]["runs"]] == [False, True]

    path, metrics, published = ch2.record_results(run, [_run(0, 0.8)], [_run(3, 0.5, "fashion_mnist")])
    record = read_results(path)
    assert metrics["fashion_dec_accuracy"] == pytest.approx(0.6) and set(ch2.PUBLISHED_FASHION) <= set(published)
    assert record["metric_seeds"]["fashion_dec_accuracy"] == [3] and "dec_accuracy" not in record["metric_seeds"]
    assert [r["dataset"] for r in record["extra"]["runs"]] == ["mnist", "fashion_mnist"]
