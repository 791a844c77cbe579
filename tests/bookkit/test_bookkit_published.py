"""The published book: committed paper-scale executions, their provenance stamp, banners, staleness."""

from __future__ import annotations

import base64
import io
import json

import nbformat
import pytest

from bookkit.build import stage_book
from bookkit.published import (
    METADATA_KEY,
    full_execution,
    is_stale,
    keep_full_execution,
    provenance,
    run_banner,
    smoke_fallback_banner,
    strip_execution,
)


def _png(size=(300, 200)) -> str:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    img = Image.fromarray((rng.random((*size[::-1], 3)) * 40 + 100).astype("uint8"))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _executed_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('acc'); train()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="acc 0.91\n"),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: something\n"),
        nbformat.v4.new_output("stream", name="stdout", text="IProgress not found. Please update jupyter\n"),
        nbformat.v4.new_output("stream", name="stdout", text="train: 40%|####      | 4/10 [00:01<00:02, 3.1it/s]\r"),
        nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"}),
    ]
    cell.metadata["execution"] = {"iopub.execute_input": "2026-12-02T06:00:00"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), cell]
    return nb


def test_stripping_keeps_results_and_figures_and_drops_the_noise():
    nb = _executed_notebook()
    before = len(nb.cells[1].outputs[-1]["data"]["image/png"])
    out = strip_execution(nb).cells[1].outputs
    texts = [o.get("text", "") for o in out if o["output_type"] == "stream"]
    assert texts == ["acc 0.91\n"]  # stderr, the IProgress warning and the progress bar are gone
    assert len(out) == 2 and "image/png" in out[1]["data"]
    assert len(out[1]["data"]["image/png"]) < before  # the figure was recompressed, not dropped
    assert "execution" not in nb.cells[1].metadata


def test_banner_names_the_run_its_cost_and_staleness():
    record = {
        "seed": 0,
        "params": {"n_seeds": 3},
        "git_commit": "5e281f4b1a2033e6",
        "date": "2026-11-26T11:41:44",
        "machine": {"cpu_count": 2, "torch_threads": 1},
        "wall_time_s": 647.0,
        "extra": {"training_seconds": 7560.0},
    }
    text = run_banner("02_dec_mnist", record, {"seconds": 646.7}, stale=[])
    assert "paper-scale run" in text and "seeds 0, 1, 2" in text and "`5e281f4b1a20`" in text
    assert "2026-11-26" in text and "2 CPU cores" in text and "no GPU" in text
    assert "run time 10 min 47 s" in text and "2 h 06 min" in text
    assert "older code" not in text
    stale = run_banner(
        "02_dec_mnist", {**record, "extra": {"training": {"reused_any": True}}}, {"seconds": 60}, stale=["the library"]
    )
    assert "Produced by older code" in stale and "the library changed" in stale
    assert "whose training time is not in this figure" in stale
    runs = {"runs": [{"seed": 0, "autoencoder_reused": False}, {"seed": 1, "autoencoder_reused": True}]}
    per_run = run_banner("02_dec_mnist", {**record, "extra": runs}, {"seconds": 60}, stale=[])
    assert "whose training time is not in this figure" in per_run
    fresh = {"runs": [{"seed": 0, "autoencoder_reused": False}]}
    assert "not in this figure" not in run_banner("02_dec_mnist", {**record, "extra": fresh}, {"seconds": 60}, [])
    assert "smoke run" in smoke_fallback_banner("03_l2_autoencoder", True)
    assert "results/full/03_l2_autoencoder.json" in smoke_fallback_banner("03_l2_autoencoder", True)


def _commit_full_run(layout, chapter="00_a"):
    executed = layout.build_dir / "executed" / "full" / f"{chapter}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(_executed_notebook(), str(executed))
    (layout.results_dir / "full").mkdir(parents=True, exist_ok=True)
    layout.full_results_file(chapter).write_text(
        json.dumps(
            {
                "chapter": chapter,
                "profile": "full",
                "seed": 0,
                "params": {},
                "git_commit": "abc123",
                "date": "2026-12-01",
                "machine": {"cpu_count": 2, "torch_threads": 1},
                "wall_time_s": 12.0,
                "metrics": {"acc": 0.9},
                "published": {"acc": {"value": 0.8, "source": "Tiny 2020"}},
            }
        )
    )
    return keep_full_execution(layout, chapter, executed, parameters={"profile": "full", "n": 5}, seconds=12.0)


def _importing(layout, chapter: str, source: str) -> None:
    """Give the tiny chapter a code cell that imports from the tiny library (never executed here)."""
    nb = nbformat.read(str(layout.notebook(chapter)), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(source))
    nbformat.write(nb, str(layout.notebook(chapter)))


def test_a_kept_full_execution_is_stamped_and_goes_stale_when_its_code_changes(tiny_book):
    layout = tiny_book()
    (layout.root / "lib" / "other.py").write_text("OTHER = 1\n")
    _importing(layout, "00_a", "from lib.core import VALUE")
    path = _commit_full_run(layout)
    assert path == layout.results_dir / "full" / "00_a.ipynb" == full_execution(layout, "00_a")
    stamp = provenance(nbformat.read(str(path), as_version=4))
    assert stamp["profile"] == "full" and stamp["parameters"] == {"profile": "full", "n": 5}
    assert stamp["git_commit"] == "abc123" and stamp["seconds"] == 12.0
    assert stamp["code_files"] == ["lib/core.py", "requirements.txt"]
    assert is_stale(layout, "00_a", stamp) == []
    (layout.root / "lib" / "other.py").write_text("OTHER = 2\n")  # not the chapter's code
    assert is_stale(layout, "00_a", stamp) == []
    (layout.root / "lib" / "core.py").write_text("VALUE = 2\n")
    assert is_stale(layout, "00_a", stamp) == ["the chapter's library code"]
    nb = nbformat.read(str(layout.notebook("00_a")), as_version=4)
    nb.cells[0].source += "\n\nMore text."
    nbformat.write(nb, str(layout.notebook("00_a")))
    assert is_stale(layout, "00_a", stamp) == ["the chapter's library code", "the chapter's notebook"]
    assert METADATA_KEY in nbformat.read(str(path), as_version=4).metadata


def test_a_kept_full_execution_goes_stale_when_its_full_parameters_change(tiny_book):
    layout = tiny_book()
    stamp = provenance(nbformat.read(str(_commit_full_run(layout)), as_version=4))
    params = layout.params_file("full", "00_a")
    params.write_text("# a comment changes nothing a run sees\nn: 5\n")
    assert is_stale(layout, "00_a", stamp) == []
    params.write_text("n: 6\n")
    assert is_stale(layout, "00_a", stamp) == ["the chapter's full-profile parameters"]
    params.write_text("n: 5\nunknown: 1\n")  # settings the notebook would refuse: not the run's either
    assert is_stale(layout, "00_a", stamp) == ["the chapter's full-profile parameters"]


def test_a_stamp_from_before_code_fingerprints_is_judged_by_the_whole_library(tiny_book):
    layout = tiny_book()
    (layout.root / "lib" / "other.py").write_text("OTHER = 1\n")
    stamp = provenance(nbformat.read(str(_commit_full_run(layout)), as_version=4))
    del stamp["code_fingerprint"], stamp["code_files"]
    assert is_stale(layout, "00_a", stamp) == []
    (layout.root / "lib" / "other.py").write_text("OTHER = 2\n")
    assert is_stale(layout, "00_a", stamp) == ["the library"]


def test_the_published_book_stages_committed_runs_and_smoke_fallbacks(tiny_book):
    layout = tiny_book(["00_a", "01_b"])
    _importing(layout, "00_a", "import lib.core")
    _commit_full_run(layout, "00_a")
    smoke = layout.executed_notebook("smoke", "01_b")
    smoke.parent.mkdir(parents=True, exist_ok=True)
    smoke.write_text(layout.notebook("01_b").read_text())
    (layout.root / "lib" / "core.py").write_text("VALUE = 3\n")  # 00_a's run is now by older code
    notes: list[str] = []
    src = stage_book(layout, "full", log=notes.append)
    a = nbformat.read(str(src / "00_a.ipynb"), as_version=4)
    assert "paper-scale run" in a.cells[1].source and "acc 0.91" in json.dumps(a.cells[2].outputs)
    assert any("Produced by older code" in c.source for c in a.cells[1:3])
    b = nbformat.read(str(src / "01_b.ipynb"), as_version=4)
    assert "This page shows the smoke run" in b.cells[1].source
    assert any("00_a was produced by older code" in n for n in notes)
    board = (src / "scoreboard.md").read_text()
    assert "produced by older code" in board and "no paper-scale execution committed" in board


@pytest.mark.parametrize(
    "chapter", ["00_data", "01_kmeans_cifar", "02_dec_mnist", "03_l2_autoencoder", "04_dcca_sensors"]
)
def test_each_committed_full_execution_is_clean_and_matches_its_results(chapter, book_layout):
    path = full_execution(book_layout, chapter)
    if path is None:
        pytest.skip(f"no committed full execution of {chapter} yet (its page shows the smoke run)")
    nb = nbformat.read(str(path), as_version=4)
    stamp = provenance(nb)
    record = json.loads(book_layout.full_results_file(chapter).read_text(encoding="utf-8"))
    assert stamp["profile"] == "full" and stamp["git_commit"] == record["git_commit"]
    assert stamp["library_fingerprint"] and stamp["notebook_fingerprint"] and stamp["seconds"] > 0
    assert stamp["code_fingerprint"] and "requirements.txt" in stamp["code_files"]
    assert any(f.startswith("dcca_core/") for f in stamp["code_files"])
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert sum(bool(c.outputs) for c in code) >= len(code) // 2  # executed, with outputs
    for cell in code:
        for out in cell.outputs:
            assert not (out["output_type"] == "stream" and out.get("name") == "stderr")
            assert "IProgress not found" not in out.get("text", "") and "it/s]" not in out.get("text", "")
    # the numbers shown are the results file's: the record's metrics appear in the executed outputs
    shown = json.dumps([c.outputs for c in code])
    numbers = [v for v in record["metrics"].values() if isinstance(v, (int, float)) and not isinstance(v, bool)]

    def appears(v):
        texts = [f"{v:.3f}", f"{v:.4f}"] if isinstance(v, float) else [str(v), f"{v:,}"]
        return any(t in shown for t in texts)

    assert numbers and sum(appears(v) for v in numbers) >= min(3, len(numbers))
    assert path.stat().st_size < 3_000_000, f"{path} is {path.stat().st_size / 1e6:.1f} MB (aim: ≤ 3 MB)"


CHAPTERS = ["00_data", "01_kmeans_cifar", "02_dec_mnist", "03_l2_autoencoder", "04_dcca_sensors"]


def _caption(cell) -> str:
    return str(cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("caption", ""))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_figure_cell_of_a_chapter_has_a_caption_and_alt_text(chapter, book_layout):
    import re

    nb = nbformat.read(str(book_layout.notebook(chapter)), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        makes = len(re.findall(r"^\s*fig\w* = ", cell.source, re.M)) + ("plt.show()" in cell.source)
        if makes:
            assert _caption(cell), f"{chapter}, cell {cell.get('id')}: a figure without a caption"
            assert cell.metadata["mystnb"].get("image", {}).get("alt"), f"{chapter}, cell {cell.get('id')}: no alt text"
            assert len(re.findall(r"^\s*fig\w* = ", cell.source, re.M)) <= 1, (
                f"{chapter}, cell {cell.get('id')}: one figure per cell, or each gets the same caption"
            )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_figure_on_a_published_page_is_captioned_once(chapter, book_layout):
    path = full_execution(book_layout, chapter)
    if path is None:
        pytest.skip(f"no committed full execution of {chapter} yet")
    nb = nbformat.read(str(path), as_version=4)
    if is_stale(book_layout, chapter, provenance(nb)):
        pytest.skip(f"the committed execution of {chapter} is from older code (the page says so)")
    for cell in nb.cells:
        images = sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
        if images:
            assert images == 1 and _caption(cell), (
                f"{chapter}, cell {cell.get('id')}: {images} images, caption {_caption(cell)!r}"
            )


def test_figure_names_are_unique_across_the_book(book_layout):
    # the HTML build treats a duplicate label as an error
    names = [
        cell.metadata["mystnb"]["figure"]["name"]
        for chapter in CHAPTERS
        for cell in nbformat.read(str(book_layout.notebook(chapter)), as_version=4).cells
        if cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("name")
    ]
    assert len(names) > 20 and len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
