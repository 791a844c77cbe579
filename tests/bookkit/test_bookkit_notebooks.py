"""Notebook hygiene (issue 3): committed chapters have no outputs and one `parameters` cell, and their
smoke/full parameter files only use names the notebook declares."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from bookkit.layout import BookLayout, chapters_in_toc
from bookkit.notebooks import check_known_parameters, declared_parameters, load_params_file, notebook_hygiene_problems

REPO = Path(__file__).resolve().parents[2]
LAYOUT = BookLayout.for_repo(REPO)
NOTEBOOKS = sorted((REPO / "book").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_clean(notebook):
    assert notebook_hygiene_problems(notebook) == [], f"book/{notebook.name}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
@pytest.mark.parametrize("profile", ["smoke", "full"])
def test_params_files_exist_and_use_declared_names_only(notebook, profile):
    path = LAYOUT.params_file(profile, notebook.stem)
    assert path.exists(), f"{path.relative_to(REPO)} is missing (it may be '{{}}' for smoke)"
    declared = declared_parameters(notebook)
    check_known_parameters(load_params_file(path), declared, chapter=notebook.stem, origin=str(path))
    if profile == "full":
        assert load_params_file(path).get("profile", "full") == "full"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_itself_sees_every_declared_parameter(notebook):
    """A reader running `papermill book/X.ipynb out.ipynb -p name value` must not get a spurious
    "Passed unknown parameter" warning: papermill cannot parse a line whose comment holds "=" ."""
    from papermill.inspection import _infer_parameters

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    seen = {p.name for p in _infer_parameters(nb)}
    assert sorted(set(declared_parameters(notebook)) - seen) == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_chapter_switches_the_library_progress_bars_off(notebook):
    # The runner sends them to the chapter's log file; a hard-coded progress=False leaves a long run silent.
    sources = "\n".join(c.source for c in nbformat.read(str(notebook), as_version=4).cells if c.cell_type == "code")
    assert "progress=False" not in sources


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_declares_profile_seed_and_device(notebook):
    declared = declared_parameters(notebook)
    assert {"profile", "seed", "device"} <= set(declared), f"declared: {', '.join(declared)}"
    assert declared["profile"].strip("'\"") == "smoke"


def test_every_chapter_notebook_is_in_the_toc():
    listed = set(chapters_in_toc(LAYOUT))
    assert [nb.stem for nb in NOTEBOOKS if nb.stem not in listed] == [], "add these to _toc.yml"


# The checks themselves, on notebooks that break the rules:


def _notebook(tmp_path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = list(cells)
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_hygiene_reports_outputs_counts_and_parameter_cells(tmp_path):
    run = nbformat.v4.new_code_cell("1 + 1", execution_count=1)
    run.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    problems = notebook_hygiene_problems(_notebook(tmp_path, run))
    assert "cell 0 has outputs (clear them before committing)" in problems
    assert "cell 0 has execution_count=1" in problems
    assert "expected exactly one code cell tagged 'parameters', found 0" in problems
    p1, p2 = nbformat.v4.new_code_cell("a = 1"), nbformat.v4.new_code_cell("b = 2")
    p1.metadata["tags"] = p2.metadata["tags"] = ["parameters"]
    assert notebook_hygiene_problems(_notebook(tmp_path, p1, p2)) == [
        "expected exactly one code cell tagged 'parameters', found 2"
    ]


def test_declared_parameters_handles_annotations_tuples_and_comments(tmp_path):
    cell = nbformat.v4.new_code_cell(
        'profile = "smoke"  # or "full"\nepochs: int = 5\na, b = 1, 2\nsizes = [\n    10,\n    20,\n]\nimport math\n'
    )
    cell.metadata["tags"] = ["parameters"]
    declared = declared_parameters(_notebook(tmp_path, cell))
    assert list(declared) == ["profile", "epochs", "a", "b", "sizes"]
    with pytest.raises(ValueError, match="unknown parameter 'lr'"):
        check_known_parameters({"lr": 0.1}, declared, chapter="x", origin="test")
