"""The committed paper-scale results (results/full/, written by `make full`): each is a full-profile
run of a chapter in the toc, with the provenance the scoreboard shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bookkit.layout import BookLayout, chapters_in_toc

REPO = Path(__file__).resolve().parents[1]
FULL = sorted((REPO / "results" / "full").glob("*.json"))


@pytest.mark.skipif(not FULL, reason="no full-profile results committed yet")
@pytest.mark.parametrize("path", FULL, ids=lambda p: p.stem)
def test_kept_full_result_is_a_full_run_with_its_provenance(path):
    record = json.loads(path.read_text(encoding="utf-8"))
    assert path.stem in chapters_in_toc(BookLayout.for_repo(REPO)), f"{path.name}: no such chapter"
    assert record["chapter"] == path.stem and record["profile"] == "full"
    assert re.fullmatch(r"[0-9a-f]{40}", record["git_commit"]), f"{path.name}: {record['git_commit']!r}"
    assert record["wall_time_s"] > 0 and record["date"] and record["machine"]["cpu_count"] >= 1
    assert record["versions"]["torch"].startswith("2.13.0")
    assert record["metrics"], f"{path.name} has no metrics"


def test_chapter_4_full_run_reproduces_the_skab_replicas():
    """The leaderboard rows our replicas are judged by, on all 34 runs and 5 seeds (the committed run)."""
    path = REPO / "results" / "full" / "04_dcca_sensors.json"
    if not path.exists():
        pytest.skip("no committed full run of chapter 4")
    m = json.loads(path.read_text(encoding="utf-8"))["metrics"]
    assert m["skab_n_runs"] == 34 and m["n_seeds"] >= 3
    # T²+Q is deterministic: both leaderboards to their published decimals
    assert [round(m[f"skab_t2q_skab_{k}"], 2) for k in ("f1", "far", "mar")] == [0.76, 26.62, 24.92]
    assert [round(m[f"skab_t2q_skab_nab_{k}"], 2) for k in ("standard", "low_fp", "low_fn")] == [25.35, 14.51, 31.33]
    # Conv-AE is a PyTorch rebuild of a Keras model: within a point of F1 and half a point of FAR/MAR
    assert abs(m["skab_conv_ae_skab_f1"] - 0.78) < 0.01
    assert abs(m["skab_conv_ae_skab_far"] - 13.55) < 0.5 and abs(m["skab_conv_ae_skab_mar"] - 28.02) < 0.5
    # its look-ahead is what keeps its false alarms low: decided causally it raises far more
    assert m["skab_conv_ae_causal_far"] > 2 * m["skab_conv_ae_skab_far"]
