import json
import time

import numpy as np
import pytest

from dcca_core.results import ChapterRun, atomic_write_text, read_results, read_study, study_runs, write_results


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


def _study_file(root, runs):
    path = root / "studies" / "results" / "demo_study.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"runs": runs}))
    return path


def test_read_study_picks_the_run_whose_settings_match(tmp_path):
    _study_file(tmp_path, [{"settings": {"part": "a", "n": 1}, "x": 1}, {"settings": {"part": "b", "n": 1}, "x": 2}])
    assert read_study("demo_study", root=tmp_path, part="b")["x"] == 2
    assert read_study("demo_study", root=tmp_path, part="a", n=1)["x"] == 1


def test_study_runs_lists_every_matching_run_in_file_order(tmp_path):
    runs = [{"settings": {"part": "a", "n": 1}, "x": 1}, {"settings": {"part": "b", "n": 1}, "x": 2}, {"x": 3}]
    _study_file(tmp_path, runs)
    assert [r["x"] for r in study_runs("demo_study", root=tmp_path)] == [1, 2, 3]
    assert [r["x"] for r in study_runs("demo_study", root=tmp_path, n=1)] == [1, 2]
    assert study_runs("demo_study", root=tmp_path, part="c") == []


@pytest.mark.parametrize(("settings", "message"), [({"n": 1}, "holds 2 runs"), ({"part": "c"}, "holds no run")])
def test_read_study_refuses_an_ambiguous_or_missing_run_and_names_the_script(tmp_path, settings, message):
    _study_file(tmp_path, [{"settings": {"part": "a", "n": 1}}, {"settings": {"part": "b", "n": 1}}])
    with pytest.raises(ValueError, match=f"{message}.*python studies/demo_study.py"):
        read_study("demo_study", root=tmp_path, **settings)


def test_read_study_names_the_script_for_a_missing_or_broken_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="python studies/demo_study.py"):
        read_study("demo_study", root=tmp_path)
    _study_file(tmp_path, []).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_study("demo_study", root=tmp_path)


def test_a_chapter_run_writes_its_settings_and_the_time_since_it_started(tmp_path):
    run = ChapterRun("99_demo", "smoke", 3, "cpu", {"epochs": 2}, started=time.perf_counter() - 5.0)
    record = read_results(
        run.write({"acc": 0.5}, published={"acc": {"value": 0.6, "source": "paper"}}, out_dir=tmp_path)
    )
    assert record["chapter"] == "99_demo" and record["seed"] == 3 and record["params"] == {"epochs": 2}
    assert 5.0 <= record["wall_time_s"] < 60.0
    assert record["published"]["acc"]["value"] == 0.6
