"""The results writer: every chapter ends with one `results/<chapter>.json`.

It records what the book needs to show a number honestly: the metrics, the parameters, the seed,
the profile, the device, library versions, the git commit and the wall time.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .paths import checkout_root, repo_root, writable_dir
from .utils import library_versions, machine_info

__all__ = [
    "repo_root",
    "results_dir",
    "ChapterRun",
    "write_results",
    "read_results",
    "read_study",
    "study_runs",
    "atomic_write_text",
]


def results_dir() -> Path:
    """Where results go: `$DCCA_RESULTS_DIR`, else `<repo>/results`, else the user cache (see dcca_core.paths)."""
    return writable_dir("results")


def _git_commit(root: Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if out.returncode != 0:
        return "unknown"
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _jsonable(value: Any) -> Any:
    """NumPy/torch scalars and arrays → plain JSON; NaN/inf → None (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    return str(value)


def atomic_write_text(path: Path, text: str) -> Path:
    """Write via a temp file in the same folder and rename, so no half-written file survives."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@dataclass
class ChapterRun:
    """One execution of a chapter: its profile, seed, device and parameters, and when it started.

    Made in a chapter's set-up cell; the chapter's record helper (e.g. `cifar_kmeans.record_results`)
    hands it the numbers at the end, and `write` stores them with the wall time since `started`.
    """

    chapter: str
    profile: str
    seed: int
    device: str
    params: dict[str, Any]
    started: float = field(default_factory=time.perf_counter)

    def write(
        self,
        metrics: dict[str, Any],
        *,
        published: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        metric_seeds: dict[str, Sequence[int]] | None = None,
        out_dir: str | Path | None = None,
    ) -> Path:
        """`write_results` for this run: results/<chapter>.json with the wall time since `started`."""
        return write_results(
            self.chapter,
            metrics,
            self.params,
            seed=self.seed,
            profile=self.profile,
            device=self.device,
            wall_time_s=time.perf_counter() - self.started,
            published=published,
            extra=extra,
            metric_seeds=metric_seeds,
            out_dir=out_dir,
        )


def write_results(
    chapter: str,
    metrics: dict[str, Any],
    params: dict[str, Any],
    *,
    seed: int,
    profile: str,
    device: str,
    wall_time_s: float,
    published: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    metric_seeds: dict[str, Sequence[int]] | None = None,
    out_dir: str | Path | None = None,
) -> Path:
    """Write `<out_dir>/<chapter>.json` atomically and return its path.

    `metrics` are our numbers; `published` maps the same metric names to
    `{"value": ..., "source": ...}` so the scoreboard can put them side by side. `metric_seeds` names
    the seeds of the metrics that do not come from every seed of the run (a one-seed ablation, a
    second data set on one seed; `[]` for a figure no seed changes), so no table shows them as
    "mean ± 0 over n seeds".
    """
    if not chapter or "/" in chapter:
        raise ValueError(f"chapter must be a plain name like '01_kmeans_cifar', got {chapter!r}")
    if profile not in ("smoke", "full"):
        raise ValueError(f"profile must be 'smoke' or 'full', got {profile!r}")
    per_metric = _checked_metric_seeds(metric_seeds or {}, metrics)
    root = checkout_root()
    record = {
        "chapter": chapter,
        "profile": profile,
        "seed": int(seed),
        "device": str(device),
        "wall_time_s": round(float(wall_time_s), 3),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(root) if root is not None else "not a checkout",
        "versions": library_versions(),
        "machine": machine_info(),
        "metrics": _jsonable(metrics),
        "published": _jsonable(published or {}),
        "params": _jsonable(params),
        "extra": _jsonable(extra or {}),
    }
    if per_metric:
        record["metric_seeds"] = per_metric
    target = Path(out_dir) if out_dir is not None else results_dir()
    return atomic_write_text(target / f"{chapter}.json", json.dumps(record, indent=2, sort_keys=False) + "\n")


def _checked_metric_seeds(metric_seeds: dict[str, Sequence[int]], metrics: dict[str, Any]) -> dict[str, list[int]]:
    """`metric_seeds` as plain lists of ints, for metrics the record has; anything else is an error."""
    unknown = sorted(set(metric_seeds) - set(metrics))
    if unknown:
        raise ValueError(f"metric_seeds names metrics the record does not have: {unknown}")
    out = {}
    for name, seeds in metric_seeds.items():
        if isinstance(seeds, (str, bytes)) or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seeds
        ):
            raise ValueError(f"metric_seeds[{name!r}] must be a list of integer seeds, got {seeds!r}")
        out[name] = [int(s) for s in seeds]
    return out


_RECORD_FIELDS = {"chapter": str, "profile": str, "metrics": dict}  # required
_OPTIONAL_FIELDS = {"published": dict, "params": dict, "extra": dict, "metric_seeds": dict}


def _read_json(path: Path, missing: str, what: str, remedy: str) -> Any:
    """The JSON in `path`; a missing file raises FileNotFoundError(`missing`), unreadable JSON a
    ValueError naming `what`, the path, the parser's message and the `remedy`."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(missing) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what} {path} is not valid JSON ({exc}); {remedy}") from None


def read_results(path: str | Path) -> dict[str, Any]:
    """Read a results file; a missing file, invalid JSON, or a record without chapter, profile and
    metrics (or with published/params/extra of the wrong type) is a clear error."""
    path = Path(path)
    record = _read_json(
        path, f"results file {path} does not exist; run the chapter first", "results file", "re-run the chapter"
    )
    if not isinstance(record, dict):
        raise ValueError(
            f"results file {path} holds a JSON {type(record).__name__}, not a results record; re-run the chapter"
        )
    wrong = [
        f"{name} (expected {kind.__name__}, got {type(record.get(name)).__name__})"
        for name, kind in _RECORD_FIELDS.items()
        if not isinstance(record.get(name), kind)
    ]
    wrong += [
        f"{name} (expected {kind.__name__}, got {type(record[name]).__name__})"
        for name, kind in _OPTIONAL_FIELDS.items()
        if name in record and not isinstance(record[name], kind)
    ]
    if wrong:
        raise ValueError(
            f"results file {path} is not a complete results record: {', '.join(wrong)}; re-run the chapter"
        )
    return record


def study_runs(study: str, root: str | Path | None = None, **settings: Any) -> list[dict[str, Any]]:
    """Every run of `studies/results/<study>.json` whose settings include `settings`, in file order.

    Studies are scripts beside the library (`studies/<study>.py`) whose committed results some chapter
    text quotes; a missing or malformed file is a clear error naming the script. `root` is the
    checkout (default: the one `dcca_core` is imported from).
    """
    base = Path(root) if root is not None else checkout_root()
    if base is None:
        raise FileNotFoundError(f"study {study!r}: dcca_core is not imported from a checkout, so there is no studies/")
    path = base / "studies" / "results" / f"{study}.json"
    run_it = f"run `python studies/{study}.py` to produce it"
    data = _read_json(path, f"study results {path} do not exist; {run_it}", "study results", run_it)
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list):
        raise ValueError(f"{path} is not a study results file (expected an object with a 'runs' list); {run_it}")
    return [r for r in runs if all(r.get("settings", {}).get(k) == v for k, v in settings.items())]


def read_study(study: str, root: str | Path | None = None, **settings: Any) -> dict[str, Any]:
    """The one run of `studies/results/<study>.json` whose settings include `settings` (e.g. part="seeds");
    no matching run or more than one is a clear error naming the script (see `study_runs`)."""
    matching = study_runs(study, root, **settings)
    if len(matching) != 1:
        found = "no run" if not matching else f"{len(matching)} runs"
        raise ValueError(
            f"studies/results/{study}.json holds {found} with settings {settings}; run `python studies/{study}.py` to produce it"
        )
    return matching[0]
