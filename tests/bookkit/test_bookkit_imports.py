"""A chapter's code: the static import closure of its notebook inside the library."""

from __future__ import annotations

import nbformat
import pytest

from bookkit.imports import import_closure, notebook_imports


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("import pkg.never  (prose, not code)")]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, str(path))
    return path


@pytest.fixture()
def package(tmp_path):
    """pkg/{__init__, a, b, unused}.py and pkg/sub/{__init__, c, d}.py with absolute, relative and lazy imports."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "from .sub import c\nimport numpy\n",
        "b.py": "def later():\n    from pkg.sub.d import D\n    return D\n",
        "unused.py": "X = 1\n",
        "sub/__init__.py": "",
        "sub/c.py": "from .. import b\nfrom . import d as _d\n",
        "sub/d.py": "D = 1\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    return pkg


def test_the_closure_follows_relative_and_lazy_imports_and_package_inits(tmp_path, package):
    nb = _notebook(tmp_path / "ch.ipynb", "%matplotlib inline\nimport os\nfrom pkg.a import thing")
    assert notebook_imports(nb) == {"os", "pkg.a", "pkg.a.thing"}
    names = [p.relative_to(package).as_posix() for p in import_closure(nb, package)]
    assert names == ["__init__.py", "a.py", "b.py", "sub/__init__.py", "sub/c.py", "sub/d.py"]


def test_a_module_nobody_imports_is_not_the_chapters_code(tmp_path, package):
    nb = _notebook(tmp_path / "ch.ipynb", "from pkg.sub import d")
    names = [p.relative_to(package).as_posix() for p in import_closure(nb, package)]
    assert names == ["__init__.py", "sub/__init__.py", "sub/d.py"]


def test_a_notebook_that_is_not_python_gets_a_clear_error(tmp_path, package):
    nb = _notebook(tmp_path / "ch.ipynb", "def broken(:\n    pass")
    with pytest.raises(ValueError, match=r"ch.ipynb, cell 1: cannot read its imports"):
        import_closure(nb, package)
