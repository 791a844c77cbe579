"""The study scripts (studies/) still match the library's API: they parse and reject bad input."""

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
