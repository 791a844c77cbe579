"""Shared fixtures. Chapters are executed once per test session (smoke profile) and their results
files are checked by the chapter tests in tests/chapters/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def run_chapter():
    """`run_chapter("02_dec_mnist") -> results dict`: execute the chapter in the smoke profile with
    papermill (once per session) and return its `results/<chapter>.json`."""
    done: dict[str, dict] = {}

    def _run(name: str) -> dict:
        if name not in done:
            import papermill as pm

            out_dir = REPO / "_build" / "executed"
            out_dir.mkdir(parents=True, exist_ok=True)
            pm.execute_notebook(str(REPO / "book" / f"{name}.ipynb"), str(out_dir / f"{name}.ipynb"),
                                parameters={}, cwd=str(REPO), kernel_name="python3", progress_bar=False)
            done[name] = json.loads((REPO / "results" / f"{name}.json").read_text())
        return done[name]

    return _run
