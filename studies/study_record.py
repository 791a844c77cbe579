"""One study run as an entry of a study's results file (`studies/results/<study>.json`, `{"runs": [...]}`).

An entry holds the run's settings, what it measured, and where and when it ran. A run with the same
settings as an earlier entry replaces it, so re-running a study refreshes its numbers instead of
piling them up; the file is rewritten atomically, so an interrupted write loses nothing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from dcca_core.results import atomic_write_text
from dcca_core.utils import library_versions, machine_info

RESULTS = Path(__file__).resolve().parent / "results"


def record_run(path: Path, settings: dict[str, Any], **measured: Any) -> dict[str, Any]:
    """Add (or replace, for the same `settings`) one run in the study file at `path`; returns the entry."""
    entry = {
        "settings": settings,
        **measured,
        "versions": library_versions(),
        "machine": machine_info(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"runs": []}
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise ValueError(f"{path} is not a study results file (expected an object with a 'runs' list)")
    settings = json.loads(json.dumps(settings, default=str))  # as it will read back
    data["runs"] = [r for r in data["runs"] if r.get("settings") != settings] + [entry]
    atomic_write_text(path, json.dumps(data, indent=1, default=str) + "\n")
    return entry
