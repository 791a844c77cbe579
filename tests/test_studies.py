"""The study scripts (studies/) still match the library's API: they parse and reject bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(STUDIES / "ch2_autoencoder_length.py"), *args], capture_output=True, text=True, timeout=300
    )


def test_autoencoder_length_study_imports_and_describes_itself():
    done = _run("--help")
    assert done.returncode == 0, done.stderr
    assert "--recipe" in done.stdout and "plain" in done.stdout


@pytest.mark.parametrize("stops", ["50,20", "0,10"])
def test_autoencoder_length_study_rejects_bad_stops_before_loading_data(stops):
    done = _run("--stops", stops)
    assert done.returncode == 2 and "--stops must be positive and ascending" in done.stderr


def test_topk_reference_study_describes_itself_and_rejects_bad_settings():
    script = str(STUDIES / "ch4_topk_reference.py")
    done = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "--masking" in done.stdout
    bad = subprocess.run([sys.executable, script, "--pretrain", "0"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "must be ≥ 1" in bad.stderr


def test_paper_budget_study_offers_fashion_and_merges_run_files(tmp_path):
    script = str(STUDIES / "ch3_paper_budget.py")
    done = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "--data" in done.stdout and "fashion" in done.stdout
    run = {
        "rows": [{"model": "AE", "seed": 0, "precision": "fp32", "epoch": e, "acc": 0.5 + e / 10} for e in (1, 2)],
        "runs": [{"model": "AE", "seed": 0, "precision": "fp32", "epochs": 2}],
    }
    out = tmp_path / "all.json"
    out.write_text(json.dumps({"rows": [{"model": "AE", "seed": 0, "precision": "fp32", "epoch": 9}], "runs": []}))
    (tmp_path / "run.json").write_text(json.dumps(run))
    done = subprocess.run(
        [sys.executable, script, "--merge", str(tmp_path / "run.json"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    merged = json.loads(out.read_text())
    assert [r["epoch"] for r in merged["rows"]] == [1, 2]  # the old row of the same key is replaced
    missing = subprocess.run(
        [sys.executable, script, "--merge", str(tmp_path / "nope.json")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "no such results file" in missing.stderr


def test_anomaly_models_study_reads_the_full_profile_and_rejects_bad_digits(tmp_path):
    script = str(STUDIES / "ch3_anomaly_models.py")
    done = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "one_class" in done.stdout
    bad = subprocess.run(
        [sys.executable, script, "--protocol", "clean", "--digits", "3,12"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "0..9" in bad.stderr
    thin = tmp_path / "thin.yaml"
    thin.write_text("precision: fp32\n")
    lacking = subprocess.run(
        [sys.executable, script, "--protocol", "clean", "--params", str(thin)], capture_output=True, text=True
    )
    assert lacking.returncode == 2 and "lacks" in lacking.stderr and "clean_epochs" in lacking.stderr


def test_chapter3_queue_lists_every_model_of_the_full_profile():
    """The two lanes train each Table I-III model of the full profile's seeds (the ablation on the first
    seed), Fashion-MNIST and both anomaly protocols' digits, each once."""
    import re

    import yaml

    text = (STUDIES / "ch3_train_all.sh").read_text()
    jobs = re.findall(r'"((?:budget|anomaly) [^"]+)"', text)
    assert len(jobs) == len(set(jobs))
    full = yaml.safe_load((STUDIES.parent / "book/params/full/03_l2_autoencoder.yaml").read_text())
    seeds = range(full["n_seeds"])
    dense = f"{full['dense_epochs']} {full['dense_precision']}"
    conv = f"{full['cluster_epochs']} {full['precision']}"
    want = {f"budget mnist dense {n} {s} {dense}" for n in ("none", "l2") for s in seeds}
    want |= {f"budget mnist conv {n} {s} {conv}" for n in ("none", "l2") for s in seeds}
    want |= {f"budget mnist conv {n} {s} {conv}" for n in ("batch", "layer") for s in seeds[: full["ablation_seeds"]]}
    want |= {f"budget fashion conv {n} 0 {conv}" for n in ("none", "l2")}
    assert want == {j for j in jobs if j.startswith("budget")}
    one_class = [j.split() for j in jobs if j.startswith("anomaly one_class")]
    assert sorted(int(j[2]) for j in one_class) == list(seeds)
    assert all(j[3] == ",".join(map(str, full["one_class_digits"])) for j in one_class)
    clean = sorted(int(d) for j in jobs if j.startswith("anomaly clean") for d in j.split()[3].split(","))
    assert clean == full["clean_digits"]


def test_a_study_run_replaces_its_earlier_entry_and_keeps_the_others(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(STUDIES))
    from study_record import record_run

    out = tmp_path / "study.json"
    record_run(out, {"seed": 0, "path": Path("x")}, acc=0.5)
    record_run(out, {"seed": 1, "path": Path("x")}, acc=0.6)
    entry = record_run(out, {"seed": 0, "path": Path("x")}, acc=0.7)  # the same settings as the first run
    runs = json.loads(out.read_text())["runs"]
    assert [(r["settings"]["seed"], r["acc"]) for r in runs] == [(1, 0.6), (0, 0.7)]
    assert entry["acc"] == 0.7 and {"versions", "machine", "date"} <= set(runs[1])
    out.write_text('{"rows": []}')
    with pytest.raises(ValueError, match="not a study results file"):
        record_run(out, {"seed": 0}, acc=0.1)
    assert out.read_text() == '{"rows": []}'  # nothing lost


def test_chapter1_exercise_study_describes_its_parts():
    done = subprocess.run(
        [sys.executable, str(STUDIES / "ch1_exercises.py"), "--help"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "l1_weight" in done.stdout and "contrast" in done.stdout
