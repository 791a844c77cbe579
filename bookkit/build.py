"""Stage the book into _build/src/ and build it with jupyter-book 1 (warnings are errors).

Staging copies `_config.yml`, `_toc.yml`, everything in book/ except notebooks and params/, the
executed notebooks of the profile, and writes the generated scoreboard.md. The sources under book/
are only read. A chapter that has not been executed in this profile gets a placeholder page that
says how to run it (and the build says so), so one chapter can be rebuilt without the others.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from dcca_core.results import atomic_write_text

from .execute import RUN_FILE, Log, cache_key, is_up_to_date, read_cache, say
from .layout import BookLayout, check_profile, describe_overrides, read_toc
from .notebooks import notebook_title, resolve_parameters
from .scoreboard import load_records, render_scoreboard

__all__ = ["BookBuildError", "custom_run", "stage_book", "build_book", "build_pdf", "jupyter_book_command"]

_SKIP_IN_BOOK_DIR = {"params", ".ipynb_checkpoints", "__pycache__", "_build"}


class BookBuildError(RuntimeError):
    """jupyter-book failed (a warning counts); the message holds the warnings and errors it printed."""


def _copy_book_assets(book_dir: Path, src: Path) -> None:
    """Everything under book/ except the notebooks (their executed copies come instead) and params/."""
    for item in sorted(book_dir.iterdir()):
        if item.name in _SKIP_IN_BOOK_DIR or item.name.startswith(".") or item.suffix == ".ipynb":
            continue
        if item.is_dir():
            shutil.copytree(item, src / item.name, ignore=shutil.ignore_patterns(*_SKIP_IN_BOOK_DIR, "*.ipynb"))
        else:
            shutil.copy2(item, src / item.name)


def _placeholder(chapter: str, title: str, profile: str) -> str:
    return (
        f"# {title}\n\n:::{{warning}}\nThis chapter has not been executed in the {profile} profile yet, "
        f"so this build has no outputs for it. Run it with\n\n    make book PROFILE={profile} "
        f"CHAPTER={chapter}\n\nor build the whole book with `make book PROFILE={profile}`.\n:::\n"
    )


def find_local_mathjax() -> Path | None:
    """A MathJax 3 `es5/` folder on this machine: `$DCCA_MATHJAX_DIR`, else the `mathjax` package of
    PyPI's django-static-mathjax (MathJax 3.2.2 as static files). None: pages load it from a CDN."""
    env = os.environ.get("DCCA_MATHJAX_DIR")
    candidates = [Path(env)] if env else []
    spec = importlib.util.find_spec("mathjax")
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "static" / "mathjax" / "es5" for p in spec.submodule_search_locations]
    for folder in candidates:
        if (folder / "tex-mml-chtml.js").exists() and (folder / "output" / "chtml" / "fonts" / "woff-v2").is_dir():
            return folder
    return None


def _bundle_mathjax(src: Path, log: Log) -> None:
    """Serve MathJax from the book itself when a local copy exists, so equations render offline and
    in the PDF (Chromium prints without network access); otherwise keep jupyter-book's CDN default."""
    mathjax = find_local_mathjax()
    if mathjax is None:
        return
    # Not in html_static_path: jupyter-book adds every .js file found there to every page, so MathJax
    # would load twice and raise "Cannot set property Package". html_extra_path copies the folder to
    # the root of the HTML output (html/mathjax/...), which jupyter-book does not scan.
    target = src / "_mathjax" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(mathjax / "tex-mml-chtml.js", target / "tex-mml-chtml.js")
    shutil.copytree(
        mathjax / "output" / "chtml" / "fonts" / "woff-v2", target / "output" / "chtml" / "fonts" / "woff-v2"
    )
    config = yaml.safe_load((src / "_config.yml").read_text(encoding="utf-8")) or {}
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config.setdefault("mathjax_path", "../mathjax/tex-mml-chtml.js")  # relative to _static/
    sphinx_config["html_extra_path"] = [*sphinx_config.get("html_extra_path", []), "_mathjax"]
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    log(f"MathJax served from the book (local copy: {mathjax})")


def custom_run(layout: BookLayout, run: str) -> tuple[str, dict]:
    """(profile, overrides) of the custom run `_build/executed/<run>/` (see `execute_chapter`)."""
    info_file = layout.build_dir / "executed" / run / RUN_FILE
    try:
        info = json.loads(info_file.read_text(encoding="utf-8"))
        profile, overrides = check_profile(info["profile"]), dict(info["overrides"])
    except FileNotFoundError:
        known = sorted(p.parent.name for p in (layout.build_dir / "executed").glob(f"*/{RUN_FILE}"))
        raise FileNotFoundError(
            f"no custom run {run!r} ({info_file} is missing); custom runs here: {', '.join(known) or 'none'}"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{info_file} does not describe a custom run ({exc}); run the chapters again") from None
    return profile, overrides


def _custom_banner(profile: str, overrides: dict) -> str:
    return (
        f":::{{warning}}\nThis page shows a **custom run**: the {profile} profile with "
        f"`{describe_overrides(overrides)}` set on the command line. Its numbers are not the book's own "
        f"{profile} run.\n:::\n"
    )


def _add_banner(notebook: Path, banner: str) -> None:
    """Put a markdown banner right under the chapter's title (first markdown cell)."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    first_md = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(first_md + 1, nbformat.v4.new_markdown_cell(banner))
    nbformat.write(nb, str(notebook))


def tidy_for_readers(notebook: Path) -> None:
    """What a reader should not have to scroll past: the notebook's default parameters cell is
    removed (the run's own values are in papermill's injected cell, folded, and in the banner)."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
    nbformat.write(nb, str(notebook))


def _stage_published(layout: BookLayout, chapter: str, src: Path, log: Log, stale_notes: dict[str, str]) -> None:
    """The published page of a chapter: its committed paper-scale execution under a banner naming the
    run (and whether older code produced it), else its smoke run under a banner saying so."""
    import nbformat

    from .published import full_execution, is_stale, provenance, run_banner, smoke_fallback_banner

    committed = full_execution(layout, chapter)
    target = src / f"{chapter}.ipynb"
    if committed is not None:
        nb = nbformat.read(str(committed), as_version=4)
        stamp = provenance(nb)
        record = json.loads(layout.full_results_file(chapter).read_text(encoding="utf-8"))
        stale = is_stale(layout, chapter, stamp)
        if stale:
            stale_notes[chapter] = f"produced by older code ({' and '.join(stale)} changed since)"
            log(
                f"warning: the committed full run of {chapter} was produced by older code ({', '.join(stale)} "
                f"changed since); `make full CHAPTER={chapter}` runs it again"
            )
        shutil.copy2(committed, target)
        _add_banner(target, run_banner(chapter, record, stamp, stale))
        tidy_for_readers(target)
        return
    smoke = layout.executed_notebook("smoke", chapter)
    if not smoke.exists():
        title = notebook_title(layout.notebook(chapter))
        log(f"warning: {chapter} has neither a committed full run nor a smoke run; its page is a placeholder")
        target.with_suffix(".md").write_text(_placeholder(chapter, title, "smoke"), encoding="utf-8")
        return
    stale_notes[chapter] = "no paper-scale execution committed; its page shows the smoke run"
    log(f"note: {chapter} has no committed full execution; its page shows the smoke run")
    shutil.copy2(smoke, target)
    _add_banner(target, smoke_fallback_banner(chapter, layout.full_results_file(chapter).exists()))
    tidy_for_readers(target)


def stage_book(layout: BookLayout, profile: str = "smoke", *, run: str | None = None, log: Log | None = say) -> Path:
    """Fill `_build/src/` (emptied first) with the pages of the book as the toc lists them; return it.

    `run` names a custom run (`<profile>-custom-<hash>`, made by `execute -p ...`): its executed
    chapters and results are staged instead, each page under a banner naming the overrides."""
    check_profile(profile)
    overrides: dict = {}
    if run is not None:
        profile, overrides = custom_run(layout, run)
    log = log or (lambda msg: None)
    entries = read_toc(layout)  # fails, naming the page, when the toc lists a missing notebook
    for required in (layout.config_file, layout.toc_file):
        if not required.exists():
            raise FileNotFoundError(f"{required} does not exist")
    src = layout.build_dir / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy2(layout.config_file, src / "_config.yml")
    shutil.copy2(layout.toc_file, src / "_toc.yml")
    _copy_book_assets(layout.book_dir, src)
    _bundle_mathjax(src, log)

    chapters, titles = [], {}
    stale_notes: dict[str, str] = {}
    cache = read_cache(layout, profile, overrides)
    for entry in entries:
        if entry.kind == "markdown":
            titles[entry.name] = notebook_title(layout.book_dir / f"{entry.name}.md")
            continue
        if entry.kind != "notebook":
            continue
        chapters.append(entry.name)
        titles[entry.name] = notebook_title(layout.notebook(entry.name))
        if profile == "full" and not overrides:
            _stage_published(layout, entry.name, src, log, stale_notes)
            continue
        executed = layout.executed_notebook(profile, entry.name, overrides)
        if not executed.exists():
            log(
                f"warning: {entry.name} has not been executed in the {profile} profile; its page is a "
                f"placeholder (run: make book PROFILE={profile} CHAPTER={entry.name})"
            )
            (src / f"{entry.name}.md").write_text(
                _placeholder(entry.name, titles[entry.name], profile), encoding="utf-8"
            )
            continue
        shutil.copy2(executed, src / f"{entry.name}.ipynb")
        tidy_for_readers(src / f"{entry.name}.ipynb")
        if overrides:
            _add_banner(src / f"{entry.name}.ipynb", _custom_banner(profile, overrides))
        try:
            params = (cache.get(entry.name) or {}).get("parameters")
            params = params if params is not None else resolve_parameters(layout, entry.name, profile)
            fresh = is_up_to_date(
                layout, entry.name, profile, cache_key(layout, entry.name, profile, params), cache, overrides
            )
        except (OSError, ValueError):
            fresh = False
        if not fresh:
            log(
                f"note: the executed copy of {entry.name} predates changes to its notebook, parameters, "
                f"library or results; `make book PROFILE={profile}` re-runs it"
            )

    if any(e.name == "scoreboard" for e in entries):
        current = load_records(layout.run_results_dir(profile, overrides), chapters)
        # A results file from the other profile does not belong in this build's table.
        current = {c: (r if r and r.get("profile") == profile else None) for c, r in current.items()}
        full = load_records(layout.results_dir / "full", chapters)
        page = render_scoreboard(
            chapters, current, full, profile=profile, titles=titles, notes=stale_notes, studies=_study_records(log)
        )
        atomic_write_text(src / "scoreboard.md", page)
    return src


def _study_records(log) -> dict[str, dict]:
    """Chapter → the record of the training study that stands in for its missing paper-scale run on
    the scoreboard (chapter 3: `studies/ch3_paper_budget.py`); none where the study file is absent."""
    from dcca_core.experiments import l2_autoencoder as ch3

    try:
        record = ch3.budget_record(ch3.budget_study())
    except (OSError, ValueError) as exc:
        log(f"note: no chapter 3 training study on the scoreboard ({exc})")
        return {}
    return {"03_l2_autoencoder": record}


def jupyter_book_command() -> list[str]:
    """`jupyter-book` from the environment running us (the venv), else from PATH."""
    candidate = Path(sys.executable).with_name("jupyter-book")
    if candidate.exists():
        return [str(candidate)]
    found = shutil.which("jupyter-book")
    if not found:
        raise FileNotFoundError("jupyter-book is not installed in this environment (make setup installs it)")
    return [found]


def _interesting(output: str) -> str:
    """The warning/error lines of a jupyter-book run (its full log is long)."""
    keep = [
        line
        for line in output.splitlines()
        if any(k in line for k in ("WARNING", "ERROR", "Error", "error:", "Traceback", "warning"))
    ]
    return "\n".join(keep[-40:]) if keep else "\n".join(output.splitlines()[-40:])


def build_book(
    layout: BookLayout,
    profile: str = "smoke",
    *,
    builder: str = "html",
    run: str | None = None,
    log: Log | None = say,
    timeout: float = 1800,
) -> Path:
    """Stage and build; return `_build/html` (or `_build/<builder>`; a custom `run` builds into
    `_build/<builder>-<run>`, leaving the profile's book alone), which holds index.html.

    Warnings are errors (`-W --keep-going`, every page rebuilt); on failure the previous output stays.
    """
    log = log or (lambda msg: None)
    if builder not in ("html", "singlehtml"):
        raise ValueError(f"builder must be 'html' or 'singlehtml', got {builder!r}")
    src = stage_book(layout, profile, run=run, log=log)
    if run is not None:
        profile = custom_run(layout, run)[0]
    work = layout.build_dir / "jb"
    cmd = jupyter_book_command() + [
        "build",
        str(src),
        "--path-output",
        str(work),
        "--builder",
        builder,
        "-W",
        "--keep-going",
        "--all",
        "-q",
    ]
    log(f"building the {builder} book ({profile} profile) with jupyter-book ...")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(cmd, cwd=layout.root, capture_output=True, text=True, timeout=timeout, env=env)
    output = proc.stdout + "\n" + proc.stderr
    built = work / "_build" / builder
    if proc.returncode != 0 or not (built / "index.html").exists():
        raise BookBuildError(
            f"jupyter-book build failed (exit {proc.returncode}; warnings count as errors):\n" + _interesting(output)
        )
    final = layout.build_dir / (builder if run is None else f"{builder}-{run}")
    if final.exists():
        shutil.rmtree(final)
    os.replace(built, final)
    (final / "build-info.json").write_text(
        json.dumps({"profile": profile, "builder": builder, "run": run or profile}) + "\n", encoding="utf-8"
    )
    log(f"book built: {final / 'index.html'}")
    return final


def build_pdf(layout: BookLayout, profile: str = "smoke", *, log: Log | None = say) -> Path:
    """The whole book as one PDF: the single-page HTML build printed by headless Chromium."""
    from .browser import find_chromium, pdf_page_count, print_to_pdf

    log = log or (lambda msg: None)
    if find_chromium() is None:
        raise FileNotFoundError("make pdf needs Chromium (Debian: sudo apt-get install chromium)")
    single = build_book(layout, profile, builder="singlehtml", log=log)
    pdf = print_to_pdf(single / "index.html", layout.build_dir / "pdf" / "book.pdf")
    log(f"PDF written: {pdf} ({pdf_page_count(pdf)} pages, {pdf.stat().st_size / 1e6:.1f} MB)")
    return pdf
