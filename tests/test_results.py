import json

import numpy as np
import pytest

from dcca_core.results import atomic_write_text, read_results, write_results


def test_write_results_records_provenance(tmp_path):
    path = write_results(
        "99_demo",
        {"acc": np.float32(0.5), "curve": np.arange(3), "bad": float("nan")},
        {"epochs": 2},
        seed=7,
        profile="smoke",
        device="cpu",
        wall_time_s=1.23456,
        published={"acc": {"value": 0.843, "source": "paper"}},
        out_dir=tmp_path,
    )
    record = json.loads(path.read_text())
    assert path.name == "99_demo.json"
    assert record["metrics"] == {"acc": 0.5, "curve": [0, 1, 2], "bad": None}
    assert record["seed"] == 7 and record["profile"] == "smoke" and record["device"] == "cpu"
    assert record["wall_time_s"] == 1.235
    assert record["versions"]["torch"].startswith("2.")
    assert "git_commit" in record and "date" in record
    assert read_results(path)["published"]["acc"]["value"] == 0.843


def test_metric_seeds_are_recorded_for_the_metrics_that_have_their_own(tmp_path):
    def write(metric_seeds):
        return write_results(
            "99_demo",
            {"acc": 0.5, "acc_batch": 0.4},
            {"n_seeds": 3},
            seed=0,
            profile="full",
            device="cpu",
            wall_time_s=1.0,
            metric_seeds=metric_seeds,
            out_dir=tmp_path,
        )

    record = read_results(write({"acc_batch": (np.int64(0),)}))
    assert record["metric_seeds"] == {"acc_batch": [0]}
    assert "metric_seeds" not in read_results(write(None))  # every metric from every seed
    with pytest.raises(ValueError, match="does not have: \\['nmi'\\]"):
        write({"nmi": [0]})
    with pytest.raises(ValueError, match="integer seeds"):
        write({"acc": "0"})
    with pytest.raises(ValueError, match="integer seeds"):
        write({"acc": [0.5]})


def test_write_results_rejects_unknown_profile(tmp_path):
    with pytest.raises(ValueError, match="profile"):
        write_results("x", {}, {}, seed=0, profile="medium", device="cpu", wall_time_s=0, out_dir=tmp_path)


def test_atomic_write_leaves_no_temp_file_and_old_content_on_failure(tmp_path):
    target = tmp_path / "r.json"
    atomic_write_text(target, "old")

    class Boom:
        def __str__(self):
            raise KeyboardInterrupt

    with pytest.raises(TypeError):
        atomic_write_text(target, Boom())  # not a str: fails while writing
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_read_results_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the chapter"):
        read_results(tmp_path / "missing.json")
    (tmp_path / "half.json").write_text('{"metrics": {')
    with pytest.raises(ValueError, match="not valid JSON"):
        read_results(tmp_path / "half.json")


@pytest.mark.parametrize(
    "content, problem",
    [
        ("[1, 2]", "holds a JSON list"),
        ('"text"', "holds a JSON str"),
        ("{not json", "not valid JSON"),
        ('{"profile": "smoke", "metrics": {}}', "chapter"),
        ('{"chapter": "x", "profile": "smoke", "metrics": [1]}', "metrics"),
        ('{"chapter": "x", "profile": "smoke", "metrics": {}, "published": "paper"}', "published"),
        ('{"chapter": "x", "profile": "smoke", "metrics": {}, "metric_seeds": [0]}', "metric_seeds"),
    ],
)
def test_a_structurally_wrong_results_file_is_a_clear_error(tmp_path, content, problem):
    path = tmp_path / "00_x.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=f"results file {path}.*{problem}"):
        read_results(path)
