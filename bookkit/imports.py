"""Which library files a chapter runs: the import closure of its notebook inside `dcca_core`.

A committed paper-scale run is stale when *its* code changed, not when any module of the library
did; work on chapter 4's model must not mark chapter 1's run as produced by older code. The closure
is read statically (every `import` anywhere in a module, lazy ones inside functions included), so it
errs on the side of including too much.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

__all__ = ["notebook_imports", "import_closure"]


def _parse(source: str, where: str) -> ast.Module:
    # IPython magics and shell escapes are not Python; they import nothing from the library.
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError as exc:
        raise ValueError(f"{where}: cannot read its imports ({exc})") from exc


def _imported_names(tree: ast.Module, package: str | None) -> set[str]:
    """Dotted names a module imports; `from a import b` gives both `a` and `a.b` (b may be a module)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if package is None:
                    continue
                parts = package.split(".")
                base_parts = parts[: len(parts) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def notebook_imports(notebook: Path) -> set[str]:
    """Dotted names imported by the code cells of a notebook."""
    nb = nbformat.read(str(notebook), as_version=4)
    names: set[str] = set()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            names |= _imported_names(_parse(cell.source, f"{notebook.name}, cell {i}"), None)
    return names


def _module_file(name: str, package_dir: Path) -> Path | None:
    """The file of `dcca_core.a.b` (a module or a package's __init__), None when it is not one."""
    parts = name.split(".")
    if parts[0] != package_dir.name:
        return None
    path = package_dir.joinpath(*parts[1:])
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def import_closure(notebook: Path, package_dir: Path) -> list[Path]:
    """The files of `package_dir` (the library) a notebook imports, directly or through other modules,
    with the `__init__.py` of every package on the way (importing a module runs them), sorted."""
    seen: dict[Path, str] = {}
    todo = sorted(notebook_imports(notebook))
    while todo:
        name = todo.pop()
        parts = name.split(".")
        # importing a.b.c runs a/__init__, a/b/__init__, then c
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            path = _module_file(prefix, package_dir)
            if path is None or path in seen:
                continue
            seen[path] = prefix
            package = prefix if path.name == "__init__.py" else prefix.rpartition(".")[0]
            tree = _parse(path.read_text(encoding="utf-8"), str(path))
            todo.extend(sorted(_imported_names(tree, package)))
    return sorted(seen)
