"""Chapter 2's bookkeeping (dcca_core.experiments.dec_mnist): summaries and the results record."""

import json
import shutil
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


def _recipe_run(dataset, recipe, stops, seed, ae, dec=None, idec=None):
    """One entry of the recipe study file, as studies/ch2_autoencoder_length.py writes it."""
    run = {
        "settings": {"dataset": dataset, "recipe": recipe, "stops": stops, "seed": seed},
        "stops": [{"finetune_epochs": e, "ae_kmeans": {"accuracy": a}} for e, a in zip(stops, ae, strict=True)],
    }
    if seed > 0:
        run["machine"] = {"cpu_model": "AMD EPYC"}
    if dec is not None:
        run["clustering_on_last"] = {"dec": {"metrics": {"accuracy": dec}}, "idec": {"metrics": {"accuracy": idec}}}
    return run


def _recipe_file(root, runs):
    path = root / "studies" / "results" / f"{ch2.RECIPE_STUDY}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"runs": runs}))


RECIPE_RUNS = [
    _recipe_run("mnist", "plain", [50], 0, [0.82], 0.88, 0.89),
    _recipe_run("mnist", "sdae", [20, 50], 0, [0.70, 0.74], 0.84, 0.85),
    _recipe_run("mnist", "sdae", [50], 1, [0.72], 0.80, 0.81),
    _recipe_run("mnist", "sdae", [50], 2, [0.73], 0.82, 0.84),
    _recipe_run("fashion_mnist", "sdae", [20], 0, [0.50], 0.58, 0.57),
    _recipe_run("fashion_mnist", "sdae", [50], 0, [0.49], 0.52, 0.53),
    _recipe_run("mnist", "plain", [25], 0, [0.80]),  # DEC skipped
]


def test_recipe_study_keeps_each_runs_last_stop_and_the_table_gives_mean_and_sd_over_seeds(tmp_path):
    _recipe_file(tmp_path, RECIPE_RUNS)
    study = ch2.recipe_study(tmp_path)
    assert len(study) == len(RECIPE_RUNS)
    first = study[(study["recipe"] == "sdae") & (study["seed"] == 0) & (study["dataset"] == "mnist")]
    assert first["epochs"].tolist() == [50] and first["ae_kmeans"].tolist() == [0.74]  # the 20-epoch stop is not a row
    table = ch2.recipe_table(study)
    assert list(table.index) == [
        "layer-wise, 5 epochs per pair, + 50 epochs of fine-tuning",  # the paper's recipe first
        "plain, 25 epochs end to end",
        "plain, 50 epochs end to end",
    ]
    sdae = table.iloc[0]
    assert sdae["DEC"] == "82.0 ± 2.0 %"  # 84, 80, 82: mean 82, sd (ddof=1) 2
    assert sdae["AE+KMeans"] == "73.0 ± 1.0 %" and sdae["seeds"] == "0, 1, 2"
    assert sdae["CPU"] == "not recorded, AMD EPYC"  # which machines the seeds ran on
    assert table.loc["plain, 50 epochs end to end", "IDEC"] == "89.0 %"  # one seed: no ±
    assert table.loc["plain, 25 epochs end to end", "DEC"] == "–"
    assert ch2.recipe_table(study, "fashion_mnist").index.tolist()[1].endswith("+ 50 epochs of fine-tuning")
    with pytest.raises(ValueError, match="no run on 'cifar'"):
        ch2.recipe_table(study, "cifar")


def test_recipe_findings_quote_the_study_in_percent_and_name_a_missing_run(tmp_path):
    _recipe_file(tmp_path, RECIPE_RUNS)
    found = ch2.recipe_findings(ch2.recipe_study(tmp_path))
    assert all(type(v) is float for v in found.values())  # glue renders plain floats; numpy's repr breaks the build
    assert found["recipe_plain50_ae"] == pytest.approx(82.0) and found["recipe_sdae50_dec"] == pytest.approx(84.0)
    assert found["recipe_sdae50_dec_mean"] == pytest.approx(82.0) and found["recipe_sdae50_dec_sd"] == pytest.approx(
        2.0
    )
    assert found["recipe_sdae50_idec_mean"] == pytest.approx(250 / 3) and found["recipe_sdae50_seeds"] == 3
    assert found["recipe_fashion_sdae20_dec"] == pytest.approx(58.0)
    assert found["recipe_fashion_sdae50_dec"] == pytest.approx(52.0)
    text = ch2.recipe_text(found)
    assert "the plain autoencoder gives DEC the better start" in text and "88.0 % on the plain" in text
    assert "Over 3 seeds the layer-wise recipe gives DEC 82.0 ± 2.0 %" in text
    assert "DEC reaches 58.0 % with it and 52.0 % after 50 epochs" in text
    shutil.rmtree(tmp_path / "studies")
    _recipe_file(tmp_path, RECIPE_RUNS[:2])  # one seed of each recipe, no Fashion-MNIST
    found = ch2.recipe_findings(ch2.recipe_study(tmp_path))
    assert "recipe_fashion_sdae20_dec" not in found and found["recipe_sdae50_seeds"] == 1
    text = ch2.recipe_text(found)
    assert "Over" not in text and "no Fashion-MNIST comparison of 20 and 50 epochs yet" in text
    shutil.rmtree(tmp_path / "studies")
    _recipe_file(tmp_path, RECIPE_RUNS[1:])  # no plain 50-epoch run with DEC
    with pytest.raises(ValueError, match="mnist, plain, 50 epochs, seed 0"):
        ch2.recipe_findings(ch2.recipe_study(tmp_path))
