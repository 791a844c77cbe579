"""Where the book's files are: sources, parameters, build folder, results; and what the toc lists."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["BookLayout", "TocEntry", "read_toc", "run_name", "describe_overrides", "GENERATED_PAGES"]

PROFILES = ("smoke", "full")
# Pages the build generates itself; the toc may name them without a file under book/.
GENERATED_PAGES = ("scoreboard",)


@dataclass(frozen=True)
class BookLayout:
    """All paths the runner reads or writes, so the same code runs the real book and a tiny test book."""

    root: Path  # cwd of every notebook run (the repo root)
    book_dir: Path  # book/: chapter notebooks, *.md pages, params/<profile>/*.yaml
    build_dir: Path  # _build/: executed/, src/, html/, singlehtml/, pdf/
    results_dir: Path  # results/: <chapter>.json of the last run, full/ for paper-scale runs
    config_file: Path  # _config.yml
    toc_file: Path  # _toc.yml
    hashed_sources: tuple[Path, ...] = field(default=())  # files/folders whose change re-runs every chapter
    unhashed: tuple[Path, ...] = field(default=())  # inside hashed_sources, but cannot change a chapter's outputs

    @classmethod
    def for_repo(cls, root: str | Path | None = None, *, results_dir: str | Path | None = None) -> BookLayout:
        """The standard layout of a checkout (default: the one `dcca_core` is installed from)."""
        from dcca_core.paths import repo_root

        root = Path(root).resolve() if root is not None else repo_root()
        if results_dir is None:  # the same rule as dcca_core.results.results_dir
            results_dir = os.environ.get("DCCA_RESULTS_DIR") or root / "results"
        return cls(
            root=root,
            book_dir=root / "book",
            build_dir=root / "_build",
            results_dir=Path(results_dir).resolve(),
            config_file=root / "_config.yml",
            toc_file=root / "_toc.yml",
            # The library and the pins: a change re-runs every chapter. The book tooling
            # (bookkit/) runs the notebooks but no chapter imports it, so it is not hashed.
            hashed_sources=(root / "dcca_core", root / "requirements.txt", root / "requirements.lock"),
        )

    def params_file(self, profile: str, chapter: str) -> Path:
        """book/params/<profile>/<chapter>.yaml."""
        return self.book_dir / "params" / profile / f"{chapter}.yaml"

    def notebook(self, chapter: str) -> Path:
        """book/<chapter>.ipynb (the committed, output-free source)."""
        return self.book_dir / f"{chapter}.ipynb"

    def executed_dir(self, profile: str, overrides: dict[str, Any] | None = None) -> Path:
        """_build/executed/<run>/: papermill's executed copies, their logs and cache entries, where
        <run> is the profile, or `<profile>-custom-<hash>` for a run with command-line overrides."""
        return self.build_dir / "executed" / run_name(profile, overrides)

    def executed_notebook(self, profile: str, chapter: str, overrides: dict[str, Any] | None = None) -> Path:
        """_build/executed/<run>/<chapter>.ipynb."""
        return self.executed_dir(profile, overrides) / f"{chapter}.ipynb"

    def run_results_dir(self, profile: str, overrides: dict[str, Any] | None = None) -> Path:
        """results/ for the profile's own runs; results/custom/<run>/ for a run with overrides, so an
        ad-hoc run never replaces the numbers of the profile's book."""
        return self.results_dir / "custom" / run_name(profile, overrides) if overrides else self.results_dir

    def results_file(self, chapter: str, profile: str = "smoke", overrides: dict[str, Any] | None = None) -> Path:
        """results/<chapter>.json (or the custom run's), written by the chapter's last cell."""
        return self.run_results_dir(profile, overrides) / f"{chapter}.json"

    def full_results_file(self, chapter: str) -> Path:
        """results/full/<chapter>.json, kept from `make full` (committed)."""
        return self.results_dir / "full" / f"{chapter}.json"


def run_name(profile: str, overrides: dict[str, Any] | None = None) -> str:
    """The profile, or `<profile>-custom-<8 hex of the overrides>` for a run with overrides."""
    check_profile(profile)
    if not overrides:
        return profile
    blob = json.dumps(overrides, sort_keys=True, default=str)
    return f"{profile}-custom-{hashlib.sha256(blob.encode()).hexdigest()[:8]}"


def describe_overrides(overrides: dict[str, Any] | None) -> str:
    """`seed=1, epochs=5` (empty for none), as the banner of a custom run shows them."""
    return ", ".join(f"{k}={v!r}" for k, v in sorted((overrides or {}).items()))


def check_profile(profile: str) -> str:
    """Reject anything but the book's two profiles, naming them."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    return profile


@dataclass(frozen=True)
class TocEntry:
    """One page of the toc: its name (no extension) and what it is."""

    name: str
    kind: str  # "notebook" (a chapter papermill executes), "markdown" (book/<name>.md) or "generated"


def _toc_files(node: object) -> list[str]:
    """All `file`/`root` values of a jupyter-book toc, depth first, in reading order."""
    found: list[str] = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if isinstance(node.get(key), str):
                found.append(node[key])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key) or []:
                found.extend(_toc_files(child))
    elif isinstance(node, list):
        for child in node:
            found.extend(_toc_files(child))
    return found


def read_toc(layout: BookLayout) -> list[TocEntry]:
    """The toc's pages in order; a page with neither book/<name>.ipynb nor book/<name>.md is an error."""
    if not layout.toc_file.exists():
        raise FileNotFoundError(f"table of contents {layout.toc_file} does not exist")
    toc = yaml.safe_load(layout.toc_file.read_text(encoding="utf-8"))
    names = _toc_files(toc)
    if not names:
        raise ValueError(f"{layout.toc_file} lists no pages (expected 'root:' and 'chapters:')")
    entries, missing = [], []
    for raw in names:
        name = raw[: -len(Path(raw).suffix)] if Path(raw).suffix in (".ipynb", ".md") else raw
        if name in GENERATED_PAGES:
            entries.append(TocEntry(name, "generated"))
        elif (layout.book_dir / f"{name}.ipynb").exists():
            entries.append(TocEntry(name, "notebook"))
        elif (layout.book_dir / f"{name}.md").exists():
            entries.append(TocEntry(name, "markdown"))
        else:
            missing.append(name)
    if missing:
        rel = _rel(layout.book_dir, layout.root)
        raise FileNotFoundError(
            f"{layout.toc_file.name} names page(s) with no source: "
            + ", ".join(f"{rel}/{m}.ipynb (or .md)" for m in missing)
            + "; add the notebook or remove the entry from the toc"
        )
    return entries


def chapters_in_toc(layout: BookLayout) -> list[str]:
    """Names of the notebook chapters the toc lists, in reading order."""
    return [e.name for e in read_toc(layout) if e.kind == "notebook"]


def _rel(path: Path, root: Path) -> str:
    """`path` relative to `root` when inside it, for short messages."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
