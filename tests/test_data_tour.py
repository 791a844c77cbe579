"""Chapter 0's record: the publishers' sizes have one home, and the committed full run matches them."""

import json
from pathlib import Path

from dcca_core.experiments import data_tour
from dcca_core.results import ChapterRun, read_results

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_full_run_carries_the_modules_published_sizes_and_meets_them():
    record = json.loads((ROOT / "results" / "full" / "00_data.json").read_text(encoding="utf-8"))
    assert record["published"] == data_tour.PUBLISHED
    assert record["metrics"] == {name: entry["value"] for name, entry in data_tour.PUBLISHED.items()}


def test_record_results_writes_the_loaded_sizes(tmp_path, monkeypatch):
    class Sized:
        def __init__(self, n, **attrs):
            self.n = n
            self.__dict__.update(attrs)

        def __len__(self):
            return self.n

    monkeypatch.setenv("DCCA_RESULTS_DIR", str(tmp_path))
    skab = Sized(0, n_rows=12, experiments={"a/0": None, "a/1": None})
    tep = Sized(0, train_X=[0] * 5, test_X=[0] * 7)
    run = ChapterRun("00_data", "smoke", 0, "cpu", {"images_per_class": 8})
    path, metrics = data_tour.record_results(
        run, mnist=Sized(70), fashion=Sized(60), cifar_test=Sized(10), skab=skab, tep=tep
    )
    assert metrics == {
        "mnist_images": 70,
        "fashion_mnist_images": 60,
        "cifar10_test_images": 10,
        "skab_rows": 12,
        "skab_experiments": 2,
        "tep_train_rows": 5,
        "tep_test_rows": 7,
    }
    assert path.parent == tmp_path and read_results(path)["published"] == data_tour.PUBLISHED
