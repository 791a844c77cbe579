"""The paper-scale runs the published book shows: committed beside their results, with provenance.

`make full` keeps each chapter's executed notebook as `results/full/<chapter>.ipynb`, stripped of
stderr and progress output, its figures recompressed, and stamped (notebook metadata
`dcca_book`) with what produced it: profile, parameters, a fingerprint of the library and of the
chapter's notebook, the commit, the date, the machine and the run time. The published book
(`make book`) stages these executions, each under a banner naming the run and its real cost; a
chapter whose library code or notebook changed since is marked "produced by older code" (the
build warns, it does not fail). A chapter with no committed execution shows its smoke run, under a
banner that says so.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import nbformat

from .layout import BookLayout
from .notebooks import resolve_parameters

__all__ = [
    "METADATA_KEY",
    "library_fingerprint",
    "notebook_fingerprint",
    "chapter_code_files",
    "chapter_code_fingerprint",
    "strip_execution",
    "keep_full_execution",
    "full_execution",
    "provenance",
    "is_stale",
    "run_banner",
    "smoke_fallback_banner",
]

METADATA_KEY = "dcca_book"
_NOISE = re.compile(r"IProgress not found|it/s\]|\|[#█▏▎▍▌▋▊▉ ]+\||\r")


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _hash_files(paths: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        label = _relative(path, root)
        data = path.read_bytes()
        h.update(f"{label}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:16]


def library_fingerprint(layout: BookLayout) -> str:
    """16 hex of the library's sources and the pins (what can move a chapter's numbers)."""
    from .execute import _source_files

    return _hash_files(_source_files(layout.hashed_sources, layout.unhashed), layout.root)


def chapter_code_files(layout: BookLayout, chapter: str) -> list[Path]:
    """The library files the chapter's notebook imports (directly or not) and the pins: its code."""
    from .imports import import_closure

    files: list[Path] = []
    for source in layout.hashed_sources:
        if source.is_dir():
            files.extend(p for p in import_closure(layout.notebook(chapter), source) if p not in layout.unhashed)
        elif source.exists():
            files.append(source)
    return files


def chapter_code_fingerprint(layout: BookLayout, chapter: str) -> str:
    """16 hex of the chapter's code (`chapter_code_files`): what can move *its* numbers."""
    return _hash_files(chapter_code_files(layout, chapter), layout.root)


def notebook_fingerprint(layout: BookLayout, chapter: str) -> str:
    """16 hex of book/<chapter>.ipynb as committed."""
    return hashlib.sha256(layout.notebook(chapter).read_bytes()).hexdigest()[:16]


def _recompress_png(data: str) -> str:
    """A base64 PNG as a palette PNG (256 colours, optimised): plots lose nothing visible and
    shrink several times, so a chapter's execution stays small in git."""
    from PIL import Image

    raw = base64.b64decode(data)
    with Image.open(io.BytesIO(raw)) as img:
        rgb = img.convert("RGB")
        small = rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        out = io.BytesIO()
        small.save(out, format="PNG", optimize=True)
    packed = out.getvalue()
    return base64.b64encode(packed if len(packed) < len(raw) else raw).decode()


def strip_execution(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook without what a reader should not see: stderr, progress bars, the
    "IProgress not found" warning, execution timings; figures recompressed (see `_recompress_png`)."""
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and (
                out.get("name") == "stderr" or _NOISE.search(out.get("text", ""))
            ):
                continue
            if "image/png" in out.get("data", {}):
                out["data"]["image/png"] = _recompress_png(out["data"]["image/png"])
            if "application/vnd.jupyter.widget-view+json" in out.get("data", {}):
                continue
            kept.append(out)
        cell["outputs"] = kept
    return nb


def provenance(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """What produced a committed execution (empty when it has no stamp)."""
    return dict(nb.metadata.get(METADATA_KEY, {}))


def keep_full_execution(
    layout: BookLayout, chapter: str, executed: Path, *, parameters: dict[str, Any], seconds: float
) -> Path:
    """Write results/full/<chapter>.ipynb: the stripped execution with its provenance stamp."""
    from dcca_core.results import atomic_write_text

    nb = strip_execution(nbformat.read(str(executed), as_version=4))
    code_files = chapter_code_files(layout, chapter)  # the import closure is read once
    results = json.loads(layout.full_results_file(chapter).read_text(encoding="utf-8"))
    nb.metadata[METADATA_KEY] = {
        "profile": "full",
        "parameters": json.loads(json.dumps(parameters, default=str)),
        "library_fingerprint": library_fingerprint(layout),
        "code_fingerprint": _hash_files(code_files, layout.root),
        "code_files": [_relative(p, layout.root) for p in code_files],
        "notebook_fingerprint": notebook_fingerprint(layout, chapter),
        "git_commit": results.get("git_commit"),
        "date": results.get("date"),
        "machine": results.get("machine"),
        "device": results.get("device"),
        "seconds": round(float(seconds), 1),
    }
    target = layout.results_dir / "full" / f"{chapter}.ipynb"
    return atomic_write_text(target, nbformat.writes(nb) + "\n")


def full_execution(layout: BookLayout, chapter: str) -> Path | None:
    """results/full/<chapter>.ipynb when it is committed, else None."""
    path = layout.results_dir / "full" / f"{chapter}.ipynb"
    return path if path.exists() else None


def is_stale(layout: BookLayout, chapter: str, stamp: dict[str, Any]) -> list[str]:
    """What changed since the committed execution: "the chapter's library code", "the chapter's notebook",
    "the chapter's full-profile parameters" (empty: fresh). A stamp from before code fingerprints (no `code_fingerprint`) is judged by the
    whole library's fingerprint."""
    changed = []
    if "code_fingerprint" in stamp:
        if stamp["code_fingerprint"] != chapter_code_fingerprint(layout, chapter):
            changed.append("the chapter's library code")
    elif stamp.get("library_fingerprint") != library_fingerprint(layout):
        changed.append("the library")
    if stamp.get("notebook_fingerprint") != notebook_fingerprint(layout, chapter):
        changed.append("the chapter's notebook")
    if "parameters" in stamp and stamp["parameters"] != _full_parameters(layout, chapter):
        changed.append("the chapter's full-profile parameters")
    return changed


def _full_parameters(layout: BookLayout, chapter: str) -> dict[str, Any] | None:
    """What papermill would inject into a full run now, as a stamp stores it (None: no valid settings),
    so that editing book/params/full/<chapter>.yaml marks the committed run stale (comments do not)."""
    try:
        parameters = resolve_parameters(layout, chapter, "full")
    except (FileNotFoundError, ValueError):
        return None
    return dict(json.loads(json.dumps(parameters, default=str)))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "not recorded"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def _seeds(record: dict[str, Any]) -> str:
    params = record.get("params", {})
    seed = int(record.get("seed", 0))
    n = params.get("n_seeds") or 1
    return ", ".join(str(s) for s in range(seed, seed + int(n)))


def _machine(record: dict[str, Any]) -> str:
    m = record.get("machine") or {}
    cores = m.get("cpu_count")
    parts = [f"{cores} CPU cores" if cores else "CPU", f"torch on {m.get('torch_threads', '?')} thread(s)"]
    parts.append(m["gpu"] if m.get("gpu") else "no GPU")
    return ", ".join(parts)


def run_banner(chapter: str, record: dict[str, Any], stamp: dict[str, Any], stale: list[str]) -> str:
    """The note at the top of a chapter page: which run it shows and what that run cost."""
    extra = record.get("extra") or {}
    training = extra.get("training_seconds")
    reused = extra.get("reused_checkpoints", (extra.get("training") or {}).get("reused_any"))
    if reused is None:  # chapter 2 records, per run, whether its autoencoder came from a checkpoint
        reused = any(run.get("autoencoder_reused") for run in extra.get("runs", []) if isinstance(run, dict))
    cost = f"run time {_duration(stamp.get('seconds', record.get('wall_time_s')))}"
    if training is not None:
        cost += f"; training of every model it used, including those loaded from checkpoints: {_duration(training)}"
    elif reused:
        cost += (
            "; it loaded trained models from checkpoints, whose training time is not in this figure (README, Timings)"
        )
    commit = str(record.get("git_commit", "unknown"))[:12]
    lines = [
        ":::{note}",
        f"**This page shows the paper-scale run** (profile `full`): seeds {_seeds(record)}, commit `{commit}`, "
        f"{str(record.get('date', ''))[:10]}, {_machine(record)}; {cost}. Its numbers are in "
        f"`results/full/{chapter}.json`. To re-run it: `make full CHAPTER={chapter}`.",
        ":::",
    ]
    if stale:
        lines += [
            "",
            ":::{warning}",
            f"**Produced by older code**: {' and '.join(stale)} changed since this run. Its numbers may no longer "
            f"be what the current code gives; `make full CHAPTER={chapter}` runs it again.",
            ":::",
        ]
    return "\n".join(lines) + "\n"


def smoke_fallback_banner(chapter: str, has_full_numbers: bool) -> str:
    """The note on a page that shows the smoke run because no paper-scale execution is committed."""
    where = (
        (
            f" The paper-scale numbers are in `results/full/{chapter}.json` and on the scoreboard, but the "
            f"execution that produced them was not kept in the book's format."
        )
        if has_full_numbers
        else ""
    )
    return (
        ":::{warning}\n**This page shows the smoke run** (small subsets, few epochs): its numbers show that the "
        f"pipeline works, not what the method can do.{where} `make full CHAPTER={chapter}` produces the "
        "paper-scale page.\n:::\n"
    )
