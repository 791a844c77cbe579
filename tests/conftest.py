"""Shared fixtures.

Chapters run through the book's own cached executor (`bookkit`), in the smoke profile,
into `_build/executed/smoke/`: within one `make test` each chapter executes at most once (and not at
all when nothing changed since the last run), whether the chapter tests (tests/chapters/) or the
book checks (tests/book_checks/) ask for it first. The book checks share one HTML build.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

os.environ.setdefault("MPLBACKEND", "Agg")  # the executor gives notebook kernels the inline backend

# A test needs the real data sets when it, or a fixture it uses, calls one of the loaders; chapter
# runs and the book checks need them too. Such tests get the `data` mark, so `make test-fast`
# (`-m "not slow and not data"`) runs only the tests that make their own small data.
_LOADS_DATA = re.compile(r"\bload_(mnist|fashion_mnist|cifar10|skab|tep|images)\(")


def _needs_data(item: pytest.Item) -> bool:
    if item.get_closest_marker("slow"):
        return True
    functions = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    for defs in info.name2fixturedefs.values() if info else []:
        functions += [d.func for d in defs]
    for fn in functions:
        try:
            if fn is not None and _LOADS_DATA.search(inspect.getsource(fn)):
                return True
        except (OSError, TypeError):
            continue
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _needs_data(item):
            item.add_marker(pytest.mark.data)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models: one torch thread avoids OpenMP spin-waits on a busy 2-core box (30x slower
    otherwise). Use with `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    from dcca_core.utils import keep_torch_threads

    with keep_torch_threads(1):
        yield


@pytest.fixture(scope="session")
def book_layout():
    """The checkout's book: book/, _build/, results/, _config.yml, _toc.yml."""
    from bookkit.layout import BookLayout

    return BookLayout.for_repo(REPO)


@pytest.fixture(scope="session")
def _chapter_outcomes() -> dict:
    """chapter → ChapterRun, or the exception its run raised (failures are not retried)."""
    return {}


def _execute_once(layout, outcomes: dict, name: str):
    from bookkit.execute import execute_chapter

    if name not in outcomes:
        try:
            outcomes[name] = execute_chapter(layout, name, "smoke", log=None)
        except Exception as exc:  # noqa: BLE001 - reported to every test that needs the chapter
            outcomes[name] = exc
    return outcomes[name]


@pytest.fixture(scope="session")
def run_chapter(book_layout, _chapter_outcomes):
    """`run_chapter("02_dec_mnist") -> results dict`: the chapter executed in the smoke profile (at most
    once per session, skipped if unchanged since its last run) and its `results/<chapter>.json`."""
    loaded: dict[str, dict] = {}

    def _run(name: str) -> dict:
        outcome = _execute_once(book_layout, _chapter_outcomes, name)
        if isinstance(outcome, BaseException):
            pytest.fail(f"{type(outcome).__name__}: {outcome}", pytrace=False)
        if name not in loaded:
            loaded[name] = json.loads(book_layout.results_file(name).read_text(encoding="utf-8"))
        return loaded[name]

    return _run


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@dataclass
class BuiltBook:
    """The smoke book built once per session: where its HTML is and what happened on the way."""

    html: Path
    chapters: list[str]
    titles: dict[str, str]
    failures: dict[str, str] = field(default_factory=dict)
    book_dir_before: dict[str, str] = field(default_factory=dict)
    book_dir_after: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
def built_book(book_layout, _chapter_outcomes) -> BuiltBook:
    """Every toc chapter executed (smoke, cached) and the HTML book built from them, once."""
    from bookkit.build import build_book
    from bookkit.layout import chapters_in_toc
    from bookkit.notebooks import notebook_title

    before = _tree_digest(book_layout.book_dir)
    chapters = chapters_in_toc(book_layout)
    failures = {}
    for name in chapters:
        outcome = _execute_once(book_layout, _chapter_outcomes, name)
        if isinstance(outcome, BaseException):
            failures[name] = f"{type(outcome).__name__}: {outcome}"
    html = build_book(book_layout, "smoke", log=None)
    titles = {name: notebook_title(book_layout.notebook(name)) for name in chapters}
    return BuiltBook(html, chapters, titles, failures, before, _tree_digest(book_layout.book_dir))


# --- a tiny book in a temporary folder, to test the machinery without the real chapters ---------


def tiny_notebook(name: str, *, plot: bool = False):
    """A chapter-shaped notebook: a title, one `parameters` cell, a cell that fails and one that sleeps
    on request, an optional figure and HTML table, and a last cell that writes results/<name>.json."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('profile = "smoke"\nseed = 0\nn = 3\nfail = False\nsleep = 0')
    params.metadata["tags"] = ["parameters"]
    cells = [
        nbformat.v4.new_markdown_cell(f"# Tiny chapter {name}\n\nA page to test the machinery."),
        params,
        nbformat.v4.new_code_cell("import json, os, pathlib\nvalues = list(range(n))"),
        nbformat.v4.new_code_cell("if fail:\n    raise RuntimeError('tiny chapter was told to fail')"),
        nbformat.v4.new_code_cell("import time\ntime.sleep(sleep)"),
    ]
    if plot:
        cells += [
            nbformat.v4.new_code_cell(
                "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(3, 2))\nax.plot(values)\nplt.show()"
            ),
            nbformat.v4.new_code_cell(
                "from IPython.display import HTML\nHTML('<table><tr><th>acc</th></tr>"
                "<tr><td>%.2f</td></tr></table>' % (0.5 + n / 100))"
            ),
        ]
    cells.append(
        nbformat.v4.new_code_cell(
            "out = pathlib.Path(os.environ['DCCA_RESULTS_DIR'])\nout.mkdir(parents=True, exist_ok=True)\n"
            f"record = {{'chapter': {name!r}, 'profile': profile, 'seed': seed, 'device': 'cpu', 'wall_time_s': 0.1,\n"
            "          'metrics': {'acc': 0.5 + n / 100}, 'published': {'acc': {'value': 0.8, 'source': 'Tiny 2020'}}}\n"
            f"_ = (out / '{name}.json').write_text(json.dumps(record))"
        )
    )
    nb.cells = cells
    return nb


@pytest.fixture
def tiny_book(tmp_path):
    """`tiny_book(["00_a", "01_b"], plot=False) -> BookLayout` of a book in tmp_path with those chapters."""
    import nbformat

    from bookkit.layout import BookLayout

    def _make(chapters=("00_a",), *, plot: bool = False, toc_extra: tuple[str, ...] = ("scoreboard",)):
        root = tmp_path / "repo"
        (root / "book" / "params" / "smoke").mkdir(parents=True, exist_ok=True)
        (root / "book" / "params" / "full").mkdir(parents=True, exist_ok=True)
        (root / "lib").mkdir(exist_ok=True)
        (root / "lib" / "core.py").write_text("VALUE = 1\n")
        (root / "requirements.txt").write_text("numpy\n")
        for name in chapters:
            nbformat.write(tiny_notebook(name, plot=plot), root / "book" / f"{name}.ipynb")
            (root / "book" / "params" / "smoke" / f"{name}.yaml").write_text("{}\n")
            (root / "book" / "params" / "full" / f"{name}.yaml").write_text("n: 5\n")
        (root / "book" / "index.md").write_text("# Tiny book\n\nA book to test the machinery.\n")
        toc = ["format: jb-book", "root: index", "chapters:"] + [f"  - file: {c}" for c in (*chapters, *toc_extra)]
        (root / "_toc.yml").write_text("\n".join(toc) + "\n")
        (root / "_config.yml").write_text((REPO / "_config.yml").read_text())
        (root / "book" / "references.bib").write_text((REPO / "book" / "references.bib").read_text())
        return BookLayout(
            root=root,
            book_dir=root / "book",
            build_dir=root / "_build",
            results_dir=root / "results",
            config_file=root / "_config.yml",
            toc_file=root / "_toc.yml",
            hashed_sources=(root / "lib", root / "requirements.txt"),
        )

    return _make
