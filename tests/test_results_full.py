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
