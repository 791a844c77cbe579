"""Checks on the built smoke book (issue 9): pages, figures, results tables, the scoreboard, the
browser render, the cache. The book is built once per session by the `built_book` fixture
(tests/conftest.py), sharing chapter executions with tests/chapters/."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from bookkit.browser import find_chromium, image_variance, rendered_dom, screenshot
from bookkit.build import find_local_mathjax
from bookkit.layout import BookLayout, chapters_in_toc

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CHAPTERS = chapters_in_toc(BookLayout.for_repo(REPO))


def _article(page: Path) -> str:
    """The page's main content (the theme's navigation and sidebars left out)."""
    text = page.read_text(encoding="utf-8")
    match = re.search(r"<article\b.*?</article>", text, flags=re.S)
    return match.group(0) if match else text


def _require_chapter(built_book, chapter):
    if chapter in built_book.failures:
        pytest.fail(f"chapter {chapter} did not execute: {built_book.failures[chapter]}", pytrace=False)


def test_index_page_exists(built_book):
    index = built_book.html / "index.html"
    assert index.exists()
    assert "Deep clustering for unsupervised anomaly detection" in index.read_text(encoding="utf-8")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_has_a_figure_and_its_results_table(built_book, chapter, book_layout):
    _require_chapter(built_book, chapter)
    page = built_book.html / f"{chapter}.html"
    assert page.exists(), f"{page} was not built"
    body = _article(page)
    assert "has not been executed" not in body, f"{chapter} is a placeholder page"
    assert "<img" in body, f"{chapter} shows no figure"
    assert "<table" in body, f"{chapter} shows no table"
    import json

    record = json.loads(book_layout.results_file(chapter).read_text(encoding="utf-8"))
    if record.get("published"):  # some table puts our numbers beside the published ones
        tables = [t.lower() for t in re.findall(r"<table\b.*?</table>", body, flags=re.S)]
        assert any("ours" in t and re.search(r"published|paper|study|reported", t) for t in tables), (
            f"{chapter} has published figures but no ours-vs-published table"
        )


def test_scoreboard_lists_every_chapter_and_says_smoke(built_book):
    page = built_book.html / "scoreboard.html"
    assert page.exists()
    body = _article(page)
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", body))
    assert "Reproduction scoreboard" in text
    assert re.search(r"come\s+from\s+the\s+smoke\s+profile", text)
    for chapter in built_book.chapters:
        assert f'href="{chapter}.html' in body, f"scoreboard does not link {chapter}"
        title = built_book.titles[chapter]
        assert " ".join(title.split()) in " ".join(text.split()), f"scoreboard does not name {title!r}"


def test_local_links_and_images_resolve(built_book):
    missing = []
    for page in sorted(built_book.html.glob("*.html")):
        for ref in re.findall(r'(?:src|href)="([^"]+)"', page.read_text(encoding="utf-8")):
            parts = urlsplit(htmllib.unescape(ref))
            if parts.scheme or parts.netloc or not parts.path:
                continue
            if not (page.parent / unquote(parts.path)).exists():
                missing.append(f"{page.name}: {ref}")
    assert missing == []


def test_nothing_under_book_is_modified_by_the_build(built_book):
    assert built_book.book_dir_after == built_book.book_dir_before


def test_second_execute_with_nothing_changed_executes_nothing(built_book, book_layout):
    from bookkit.execute import execute_book

    if built_book.failures:
        pytest.skip(f"chapters failed, they would run again: {', '.join(built_book.failures)}")
    lines: list[str] = []
    runs = execute_book(book_layout, "smoke", log=lines.append)
    assert [r.status for r in runs] == ["cached"] * len(CHAPTERS), "\n".join(lines)


@pytest.mark.skipif(
    find_chromium() is None,
    reason="Chromium is not installed (make setup installs it: apt-get install chromium); browser check skipped",
)
def test_browser_renders_index_and_a_chapter_without_errors(built_book, tmp_path):
    pages = [built_book.html / "index.html"]
    chapter = next((c for c in built_book.chapters if c not in built_book.failures), None)
    if chapter:
        pages.append(built_book.html / f"{chapter}.html")
    for page in pages:
        report = screenshot(page, tmp_path / f"{page.stem}.png", width=1280, height=1600, timeout=60)
        assert report.uncaught_errors == [], f"{page.name}: {report.uncaught_errors}"
        assert image_variance(report.png) > 0, f"{page.name} rendered blank"


def _math_page(built_book) -> Path:
    """The first executed chapter page with an equation."""
    for chapter in built_book.chapters:
        page = built_book.html / f"{chapter}.html"
        if chapter not in built_book.failures and re.search(r'class="math', page.read_text(encoding="utf-8")):
            return page
    pytest.skip("no chapter page has an equation")


def test_mathjax_is_loaded_once_per_page(built_book):
    # Loaded twice, MathJax 3 raises "Cannot set property Package" and typesets nothing.
    page = _math_page(built_book)
    scripts = re.findall(
        r'<script[^>]*src="([^"]*(?:tex-mml-chtml|tex-chtml|MathJax)[^"]*)"', page.read_text(encoding="utf-8")
    )
    assert len(scripts) == 1, f"{page.name}: {scripts}"


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed; offline equation check skipped")
@pytest.mark.skipif(find_local_mathjax() is None, reason="no local MathJax (django-static-mathjax); pages use the CDN")
def test_equations_are_typeset_offline(built_book):
    # The local MathJax copy is served from the book, so equations render without network (and in the PDF).
    page = _math_page(built_book)
    dom = rendered_dom(page)
    assert "<mjx-container" in dom, f"{page.name}: MathJax typeset no equation"


def test_the_published_book_builds_from_committed_runs_and_labels_every_page(built_book, book_layout, tmp_path):
    """`make book`: the committed paper-scale executions where there are any, the smoke runs (executed
    for the smoke book above) elsewhere; every chapter page says which run it shows."""
    from bookkit.build import build_book
    from bookkit.published import full_execution

    notes: list[str] = []
    html = build_book(book_layout, "full", log=notes.append)
    try:
        for chapter in CHAPTERS:
            body = _article(html / f"{chapter}.html")
            if full_execution(book_layout, chapter) is not None:
                assert "This page shows the paper-scale run" in body, chapter
            else:
                assert "This page shows the smoke run" in body, chapter
            assert "profile = &quot;smoke&quot;" not in body  # the notebook's default parameters cell is hidden
        assert (html / "bibliography.html").exists() and "Xie" in (html / "bibliography.html").read_text()
        assert "KMeans" in (html / "api.html").read_text(encoding="utf-8")
        assert "Verdicts at a glance" in (html / "scoreboard.html").read_text(encoding="utf-8")
    finally:  # the smoke book the other checks look at is rebuilt, so the session leaves it as it found it
        build_book(book_layout, "smoke", log=None)


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed; browser check skipped")
def test_every_page_at_desktop_and_phone_width(built_book, book_layout):
    """Every page at 1280 and 390 px: images load and MathJax typesets without errors (asserted), and
    what is wider than its column (clipped code, equations, tables) is listed in
    _build/page-check/report.json beside a screenshot of each page, for a person to look at. The
    overflow list is a to-do of the book issue, not yet a failure."""
    import json
    import warnings

    out = book_layout.build_dir / "page-check"
    out.mkdir(parents=True, exist_ok=True)
    from bookkit.browser import page_check

    report, problems = {}, []
    for page in sorted(built_book.html.glob("*.html")):
        if page.name in ("genindex.html", "search.html") or page.name.startswith("."):
            continue
        for width in (1280, 390):
            result = page_check(page, width=width)
            report[f"{page.stem}@{width}"] = result
            if result["broken"] or result["mathErrors"]:
                problems.append(
                    f"{page.name} at {width} px: images {result['broken']}, MathJax errors {result['mathErrors']}"
                )
        screenshot(page, out / f"{page.stem}-390.png", width=390, height=1600, timeout=60)
    (out / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    assert not problems, "\n".join(problems)
    wide = sum(len(r["wide"]) for r in report.values())
    if wide:
        warnings.warn(f"{wide} elements are wider than their column (see {out / 'report.json'})", stacklevel=1)
