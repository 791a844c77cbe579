"""Execute chapters with papermill into _build/executed/<run>/, skipping unchanged ones.

<run> is the profile, or `<profile>-custom-<hash>` for a run with command-line overrides (its
results go to results/custom/<run>/, so an ad-hoc run never stands in for the profile's book).

A chapter is skipped when its cache key — sha256 of the notebook, the profile, the injected
parameters, every library source (except this book machinery, which no chapter imports) and
requirements.txt — equals the one stored in `_build/executed/<run>/.cache/<chapter>.json` for its
last successful run, and the executed copy and an unchanged results file are still there. One cache
file and one lock per chapter: runners on different chapters never lose each other's entries, two
on the same chapter are refused, and a failed run leaves the last good copy and its entry alone.
While a cell runs, a heartbeat (which cell, for how long) goes to the terminal and to
`_build/executed/<run>/<chapter>.log`, where the library's progress bars also write (`tail -f`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import hashlib
import json
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from dcca_core.results import atomic_write_text, read_results
from dcca_core.utils import PROGRESS_LOG_ENV

from .layout import BookLayout, chapters_in_toc, check_profile, describe_overrides
from .notebooks import parameters_cell_indices, resolve_parameters

__all__ = [
    "ChapterExecutionError",
    "ChapterRun",
    "cache_key",
    "read_cache",
    "execute_chapter",
    "execute_book",
    "is_up_to_date",
    "chapter_status",
]

CACHE_DIR = ".cache"
RUN_FILE = "run.json"  # what a custom run is: profile and overrides
HEARTBEAT_S = 60.0
SMOKE_CELL_TIMEOUT_S = 900  # no smoke cell should come near this; a hung one must not block make test
Log = Callable[[str], None]


def say(message: str) -> None:
    """Progress on stdout, flushed so `make` shows it as it happens."""
    print(message, file=sys.stdout, flush=True)


class ChapterExecutionError(RuntimeError):
    """A chapter failed: which chapter, which cell (index in book/<chapter>.ipynb), which error."""

    def __init__(
        self,
        chapter: str,
        message: str,
        *,
        cell_index: int | None = None,
        first_line: str | None = None,
        error: str | None = None,
        executed_path: Path | None = None,
    ):
        self.chapter, self.cell_index, self.first_line = chapter, cell_index, first_line
        self.error, self.executed_path = error, executed_path
        super().__init__(message)


@dataclass(frozen=True)
class ChapterRun:
    """What happened to one chapter: "executed" or "cached", and how long it took."""

    chapter: str
    status: str
    seconds: float
    executed_path: Path
    results_path: Path


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _source_files(paths: tuple[Path, ...], skip: tuple[Path, ...] = ()) -> list[Path]:
    """Files behind the hashed sources: a folder contributes its *.py files, recursively; `skip`
    (files or folders) is left out."""

    def skipped(p: Path) -> bool:
        return any(p == s or s in p.parents for s in skip)

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts and not skipped(p)))
        elif path.exists() and not skipped(path):
            files.append(path)
    return files


def cache_key(layout: BookLayout, chapter: str, profile: str, parameters: dict[str, Any]) -> str:
    """sha256 over everything that can change a chapter's outputs (see the module docstring)."""
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(f"{label}\0{len(data)}\0".encode())
        h.update(data)

    add("notebook", layout.notebook(chapter).read_bytes())
    add("profile", profile.encode())
    add("parameters", json.dumps(parameters, sort_keys=True, default=str).encode())
    for path in _source_files(layout.hashed_sources, layout.unhashed):
        try:
            label = str(path.relative_to(layout.root))
        except ValueError:
            label = str(path)
        add(label, path.read_bytes())
    return h.hexdigest()


def read_cache(layout: BookLayout, profile: str, overrides: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The per-chapter records of the last successful runs (empty if none). An entry that is not a
    well-formed record is reported and ignored, so the chapter runs again and its entry is rebuilt."""
    folder = layout.executed_dir(profile, overrides) / CACHE_DIR
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            warnings.warn(f"ignoring unreadable cache entry {path} ({exc}); the chapter will run again", stacklevel=2)
            continue
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("key"), str)
            and isinstance(entry.get("results_sha256"), str)
        ):
            warnings.warn(
                f"ignoring malformed cache entry {path} (not a record with 'key' and "
                f"'results_sha256'); the chapter will run again",
                stacklevel=2,
            )
            continue
        entries[path.stem] = entry
    return entries


def _write_cache_entry(
    layout: BookLayout, profile: str, chapter: str, entry: dict[str, Any], overrides: dict[str, Any] | None = None
) -> None:
    atomic_write_text(
        layout.executed_dir(profile, overrides) / CACHE_DIR / f"{chapter}.json",
        json.dumps(entry, indent=2, sort_keys=True) + "\n",
    )


def is_up_to_date(
    layout: BookLayout,
    chapter: str,
    profile: str,
    key: str,
    cache: dict[str, dict[str, Any]] | None = None,
    overrides: dict[str, Any] | None = None,
) -> bool:
    """Same key as the last successful run, and its executed copy and results file are unchanged."""
    entry = (cache if cache is not None else read_cache(layout, profile, overrides)).get(chapter)
    results = layout.results_file(chapter, profile, overrides)
    if not entry or entry.get("key") != key:
        return False
    if not layout.executed_notebook(profile, chapter, overrides).exists() or not results.exists():
        return False
    return entry.get("results_sha256") == _sha256_file(results)


@contextlib.contextmanager
def _chapter_lock(folder: Path, chapter: str) -> Iterator[None]:
    """Hold `<folder>/.cache/<chapter>.lock` while the chapter runs; a second runner is refused."""
    lock_dir = folder / CACHE_DIR
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{chapter}.lock", "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise ChapterExecutionError(
                chapter,
                f"chapter {chapter} is being executed by another runner ({holder}); wait for it to finish",
                error="locked",
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, since {_dt.datetime.now().isoformat(timespec='seconds')}\n")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _kernel_environment(results_dir: Path, progress_log: Path) -> Iterator[None]:
    """Environment the kernel inherits: where results go, a fixed hash seed, the inline plot backend,
    and no tqdm progress bars.

    MPLBACKEND is set explicitly because a caller (pytest's conftest) may have set it to Agg, and
    with Agg a notebook shows no figures at all. Without ipywidgets, tqdm writes every update as a
    line of text into the executed notebook (thousands of lines per training run); the library's
    bars go to the chapter's log file instead (DCCA_PROGRESS_LOG). Run interactively, the chapters
    keep their progress bars.
    """
    wanted = {
        "DCCA_RESULTS_DIR": str(results_dir),
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "TQDM_DISABLE": "1",
        PROGRESS_LOG_ENV: str(progress_log),
    }
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _quiet_papermill_inspection() -> Iterator[None]:
    """papermill re-reads the parameters cell only to warn about unknown names (checked here already,
    as errors) and logs "Unable to parse line ..." for comments it cannot read; keep that noise out."""
    logger = logging.getLogger("papermill.translators")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _kernel_config():
    """Local kernels talk over Unix sockets where there are any: no open TCP ports on the machine
    (and no "running over TCP without encryption" warning from every kernel). Each kernel gets its
    own socket prefix in the temp folder: by default it is `kernel-ipc` in the working directory, so
    two runners started from the checkout would pick the same socket files and corrupt each other's
    messages ("Invalid Signature")."""
    import tempfile
    import uuid

    from traitlets.config import Config

    if os.name != "posix":
        return Config()
    prefix = os.path.join(tempfile.gettempdir(), f"dcca-kernel-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    return Config({"KernelManager": {"transport": "ipc", "ip": prefix}})


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:120]
    return ""


def _running_cell(path: Path) -> int | None:
    """Index of the cell papermill was running when it stopped: the last one it started."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - no partial notebook, no cell to name
        return None
    started = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.get("metadata", {}).get("papermill", {}).get("start_time") is not None
    ]
    return started[-1] if started else None


def _failure(chapter: str, layout: BookLayout, exc: BaseException, failed_copy: Path) -> ChapterExecutionError:
    """Turn papermill's error into one that names the chapter, the cell of book/<chapter>.ipynb and the error."""
    from papermill.exceptions import PapermillExecutionError

    source_nb = nbformat.read(str(layout.notebook(chapter)), as_version=4)
    params_idx = parameters_cell_indices(source_nb)[0]
    where = f"book/{chapter}.ipynb" if layout.book_dir.name == "book" else str(layout.notebook(chapter))
    if isinstance(exc, PapermillExecutionError):
        idx: int | None = exc.cell_index
        error = f"{exc.ename}: {exc.evalue}".strip().rstrip(":")
    else:  # a cell timeout, a dead kernel (out of memory?), a kernel that did not start
        idx = _running_cell(failed_copy)
        error = f"{type(exc).__name__}: {str(exc).strip() or 'no message'}"
    # papermill's indices count its injected-parameters cell, inserted right after ours.
    src_idx = first = None
    if idx is None:
        cell_desc = "no particular cell"
    elif idx == params_idx + 1:
        cell_desc = "the injected-parameters cell"
    else:
        src_idx = idx - 1 if idx > params_idx else idx
        first = _first_line(source_nb.cells[src_idx].source) if src_idx < len(source_nb.cells) else ""
        cell_desc = f"cell {src_idx} (first line: {first!r})"
    return ChapterExecutionError(
        chapter,
        f"chapter {chapter} failed in {cell_desc} of {where}:\n    {error}\n"
        f"the executed notebook with the full traceback is {failed_copy}",
        cell_index=src_idx,
        first_line=first,
        error=error,
        executed_path=failed_copy,
    )


class _Heartbeat:
    """Reports which cell of a running chapter is executing and for how long, from the notebook
    papermill saves at the start and end of every cell; to `log` and to the chapter's log file."""

    def __init__(self, chapter: str, running: Path, log_file: Path, log: Log, every: float = HEARTBEAT_S) -> None:
        self.chapter, self.running, self.log_file, self.log, self.every = chapter, running, log_file, log, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{chapter}", daemon=True)
        self._cell: int | None = None
        self._since = time.monotonic()

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def write(self, message: str) -> None:
        stamp = _dt.datetime.now().strftime("%H:%M:%S")
        with open(self.log_file, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {message}\n")

    def _current(self) -> tuple[int, int, str] | None:
        try:
            nb = nbformat.read(str(self.running), as_version=4)
        except Exception:  # noqa: BLE001 - not written yet, or being rewritten: try again later
            return None
        code = [
            i
            for i, c in enumerate(nb.cells)  # numbered as in book/<chapter>.ipynb: without papermill's cell
            if c.cell_type == "code" and "injected-parameters" not in c.get("metadata", {}).get("tags", [])
        ]
        for n, i in enumerate(code, 1):
            if nb.cells[i].get("metadata", {}).get("papermill", {}).get("status") == "running":
                return n, len(code), _first_line(nb.cells[i].source)
        return None

    def _loop(self) -> None:
        last_beat = time.monotonic()
        while not self._stop.wait(min(5.0, self.every)):
            current = self._current()
            if current is None:
                continue
            n, total, first = current
            now = time.monotonic()
            if n != self._cell:
                self._cell, self._since, last_beat = n, now, now
                self.write(f"{self.chapter}: code cell {n}/{total} started: {first}")
            elif now - last_beat >= self.every:
                last_beat = now
                message = (
                    f"{self.chapter}: code cell {n}/{total} running for {_fmt_seconds(now - self._since)}: {first}"
                )
                self.write(message)
                self.log(f"    {message}")


def checkout_changes(root: Path) -> list[str] | None:
    """The tracked files with uncommitted changes under `root` (git status), or None where `root` is not
    a git checkout. A kept full run names the commit it ran (results' git_commit), so it needs none."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return [line[3:] for line in out.stdout.splitlines() if line.strip()]


def require_clean_checkout(layout: BookLayout) -> None:
    """Refuse to start a run for results/full/ in a checkout with uncommitted changes (or none at all):
    the kept record would name "<commit>+dirty", a state nobody can check out again."""
    changed = checkout_changes(layout.root)
    if changed is None:
        raise ValueError(
            f"--keep-full-results needs a git checkout (the kept run names its commit); {layout.root} is not one"
        )
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise ValueError(
            "--keep-full-results needs a clean checkout, so the kept run names a commit anyone can check out; "
            f"commit or stash the changes first ({shown})"
        )


def _require_clean_record(results: Path) -> None:
    """The run's own record must name a clean commit before it is kept (results/full/ is left as it was)."""
    import re

    commit = str(read_results(results).get("git_commit", ""))
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise ValueError(
            f"{results} was written at git commit {commit!r}, not a clean commit: results/full/ keeps only runs "
            "that name one; commit the changes and run the chapter again (results/full/ was not changed)"
        )


def execute_chapter(
    layout: BookLayout,
    chapter: str,
    profile: str = "smoke",
    *,
    overrides: dict[str, Any] | None = None,
    force: bool = False,
    keep_full_results: bool = False,
    progress_bar: bool = False,
    cell_timeout: float | None | str = "auto",
    log: Log | None = say,
    heartbeat_s: float = HEARTBEAT_S,
) -> ChapterRun:
    """Run one chapter with papermill unless its cache key is unchanged; raise ChapterExecutionError on failure.

    The executed copy is written to `<chapter>.running.ipynb` and renamed on success; a failed run is
    kept as `<chapter>.failed.ipynb`, and the previous good copy and its cache entry stay as they were.
    With `overrides` the run goes to its own folder (see the module docstring), labelled by them.
    `cell_timeout` (seconds per cell; "auto": SMOKE_CELL_TIMEOUT_S in the smoke profile, none in full)
    stops a hung smoke run instead of letting it eat the CI budget.
    """
    import papermill as pm

    check_profile(profile)
    if keep_full_results and (profile != "full" or overrides):
        raise ValueError(
            "--keep-full-results only applies to the full profile without -p overrides "
            f"(results/full/ holds the paper-scale runs), got profile {profile!r}"
            + (f" with overrides {describe_overrides(overrides)}" if overrides else "")
        )
    log = log or (lambda msg: None)
    parameters = resolve_parameters(layout, chapter, profile, overrides)
    custom = {k: parameters[k] for k in (overrides or {})}  # as parsed by the notebook's types
    key = cache_key(layout, chapter, profile, parameters)
    out_dir = layout.executed_dir(profile, custom)
    out_dir.mkdir(parents=True, exist_ok=True)
    if custom:
        atomic_write_text(
            out_dir / RUN_FILE,
            json.dumps(
                {"profile": profile, "overrides": custom, "label": describe_overrides(custom)},
                indent=2,
                sort_keys=True,
                default=str,
            )
            + "\n",
        )
    target = layout.executed_notebook(profile, chapter, custom)
    results_dir = layout.run_results_dir(profile, custom)
    results = layout.results_file(chapter, profile, custom)
    timeout = (SMOKE_CELL_TIMEOUT_S if profile == "smoke" else None) if cell_timeout == "auto" else cell_timeout

    with _chapter_lock(out_dir, chapter):
        cache = read_cache(layout, profile, custom)
        if not force and is_up_to_date(layout, chapter, profile, key, cache, custom):
            run = ChapterRun(chapter, "cached", 0.0, target, results)
        else:
            running, failed = out_dir / f"{chapter}.running.ipynb", out_dir / f"{chapter}.failed.ipynb"
            log_file = out_dir / f"{chapter}.log"
            log_file.write_text("", encoding="utf-8")
            if custom:
                log(
                    f"    custom run ({describe_overrides(custom)}): executed copy in {out_dir}, results in {results_dir}"
                )
            log(f"    progress: tail -f {log_file}")
            results_dir.mkdir(parents=True, exist_ok=True)
            started_wall = time.time()
            start = time.perf_counter()
            heartbeat = _Heartbeat(chapter, running, log_file, log, heartbeat_s)
            try:
                with _kernel_environment(results_dir, log_file), _quiet_papermill_inspection(), heartbeat:
                    pm.execute_notebook(
                        str(layout.notebook(chapter)),
                        str(running),
                        parameters=parameters,
                        cwd=str(layout.root),
                        kernel_name="python3",
                        progress_bar=progress_bar,
                        log_output=False,
                        request_save_on_cell_execute=True,
                        config=_kernel_config(),
                        execution_timeout=timeout,
                    )
            except Exception as exc:  # noqa: BLE001 - every failure becomes a named chapter error
                if running.exists():
                    os.replace(running, failed)
                heartbeat.write(f"{chapter}: FAILED after {_fmt_seconds(time.perf_counter() - start)}")
                raise _failure(chapter, layout, exc, failed) from None
            seconds = time.perf_counter() - start
            heartbeat.write(f"{chapter}: finished in {_fmt_seconds(seconds)}")
            _check_results(chapter, profile, results, started_wall, running)
            os.replace(running, target)
            failed.unlink(missing_ok=True)
            _write_cache_entry(
                layout,
                profile,
                chapter,
                {
                    "key": key,
                    "results_sha256": _sha256_file(results),
                    "seconds": round(seconds, 2),
                    "parameters": json.loads(json.dumps(parameters, default=str)),
                    "overrides": json.loads(json.dumps(custom, default=str)),
                    "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                },
                custom,
            )
            run = ChapterRun(chapter, "executed", seconds, target, results)

    if keep_full_results:
        from .published import keep_full_execution

        _require_clean_record(results)
        keep = layout.full_results_file(chapter)
        if not keep.exists() or keep.read_bytes() != results.read_bytes():
            atomic_write_text(keep, results.read_text(encoding="utf-8"))
            log(f"    kept {keep}")
        seconds = run.seconds if run.status == "executed" else float((cache.get(chapter) or {}).get("seconds") or 0)
        log(f"    kept {keep_full_execution(layout, chapter, target, parameters=parameters, seconds=seconds)}")
    return run


def _check_results(chapter: str, profile: str, results: Path, started_wall: float, running: Path) -> None:
    """The chapter must have written results/<chapter>.json, in this run and in this profile."""
    if not results.exists() or results.stat().st_mtime < started_wall - 1:
        raise ChapterExecutionError(
            chapter,
            f"chapter {chapter} ran but did not write {results} (its last cell must call "
            f"write_results({chapter!r}, ...)); the executed notebook is {running}",
            error="no results file",
            executed_path=running,
        )
    try:
        record = read_results(results)
    except ValueError as exc:
        raise ChapterExecutionError(
            chapter,
            f"chapter {chapter} wrote an invalid results file: {exc}",
            error="invalid results file",
            executed_path=running,
        ) from None
    if record.get("profile") != profile:
        raise ChapterExecutionError(
            chapter,
            f"chapter {chapter} ran in the {profile} profile but {results} says "
            f"profile={record.get('profile')!r}: pass the notebook's `profile` parameter to write_results",
            error="profile mismatch",
            executed_path=running,
        )


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def execute_book(
    layout: BookLayout,
    profile: str = "smoke",
    chapters: list[str] | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    force: bool = False,
    keep_full_results: bool = False,
    progress_bar: bool = False,
    log: Log | None = say,
) -> list[ChapterRun]:
    """Execute the toc's chapters (or `chapters`) in order; parameters of all are checked before any runs."""
    log = log or (lambda msg: None)
    known = chapters_in_toc(layout)
    selected = list(chapters) if chapters else known
    for name in selected:
        if not layout.notebook(name).exists():
            raise ValueError(
                f"no chapter {name!r}: {layout.notebook(name)} does not exist "
                f"(chapters in the toc: {', '.join(known) or 'none'})"
            )
    for name in selected:  # fail fast: a typo in a YAML file should not wait for a 10-minute chapter
        resolve_parameters(layout, name, profile, overrides)
    if keep_full_results and (profile != "full" or overrides):
        raise ValueError("--keep-full-results only applies to the full profile without -p overrides")
    if keep_full_results:
        require_clean_checkout(layout)  # before hours of training, not after
    runs: list[ChapterRun] = []
    total = time.perf_counter()
    for i, name in enumerate(selected, 1):
        log(f"[{i}/{len(selected)}] {name} ({profile}) ...")
        run = execute_chapter(
            layout,
            name,
            profile,
            overrides=overrides,
            force=force,
            progress_bar=progress_bar,
            log=log,
        )
        log(
            f"[{i}/{len(selected)}] {name}: "
            + (
                "unchanged since its last run, skipped"
                if run.status == "cached"
                else f"executed in {_fmt_seconds(run.seconds)}"
            )
        )
        runs.append(run)
    if keep_full_results:
        # Only now, after every chapter ran: writing results/full/ earlier would make the checkout
        # dirty, and every later chapter would record "<commit>+dirty" instead of a clean commit.
        for name in selected:
            execute_chapter(layout, name, profile, overrides=overrides, keep_full_results=True, log=log)
    n_exec = sum(r.status == "executed" for r in runs)
    log(
        f"{n_exec} chapter(s) executed, {len(runs) - n_exec} unchanged, in {_fmt_seconds(time.perf_counter() - total)}"
        f"; executed notebooks in {runs[-1].executed_path.parent if runs else layout.executed_dir(profile)}"
    )
    return runs


def chapter_status(layout: BookLayout, profile: str = "smoke") -> list[dict[str, Any]]:
    """Per toc chapter: "up to date", "changed since last run", "failed" or "never run", with the
    duration and date of its last successful execution in `profile`."""
    cache = read_cache(layout, profile)
    rows = []
    for name in chapters_in_toc(layout):
        entry = cache.get(name) or {}
        failed = (layout.executed_dir(profile) / f"{name}.failed.ipynb").exists()
        if entry:
            try:
                key = cache_key(layout, name, profile, resolve_parameters(layout, name, profile))
                state = "up to date" if is_up_to_date(layout, name, profile, key, cache) else "changed since last run"
            except (ValueError, FileNotFoundError) as exc:
                state = f"invalid parameters ({exc})"
        else:
            state = "failed" if failed else "never run"
        rows.append(
            {"chapter": name, "state": state, "seconds": entry.get("seconds"), "finished": entry.get("finished")}
        )
    return rows
