"""Chapter notebooks: the `parameters` cell, the params YAML files, CLI overrides, hygiene checks.

Papermill only *warns* about a parameter the notebook does not declare (and the run then silently
uses the default); here it is an error that names the parameter and the declared ones.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import nbformat
import yaml

from .layout import BookLayout, check_profile

__all__ = ["parameters_cell_indices", "declared_parameters", "load_params_file", "parse_override",
           "check_known_parameters", "resolve_parameters", "notebook_hygiene_problems", "notebook_title"]


def _read(nb_or_path: str | Path | nbformat.NotebookNode) -> nbformat.NotebookNode:
    if isinstance(nb_or_path, nbformat.NotebookNode):
        return nb_or_path
    return nbformat.read(str(nb_or_path), as_version=4)


def parameters_cell_indices(nb_or_path: str | Path | nbformat.NotebookNode) -> list[int]:
    """Indices of the code cells tagged `parameters` (a chapter must have exactly one)."""
    nb = _read(nb_or_path)
    return [i for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", [])]


def declared_parameters(nb_or_path: str | Path | nbformat.NotebookNode) -> dict[str, str]:
    """`{name: default source}` of the top-level assignments in the one `parameters` cell."""
    nb = _read(nb_or_path)
    where = nb_or_path if not isinstance(nb_or_path, nbformat.NotebookNode) else "notebook"
    idx = parameters_cell_indices(nb)
    if len(idx) != 1:
        raise ValueError(f"{where}: expected exactly one code cell tagged 'parameters', found {len(idx)}")
    source = nb.cells[idx[0]].source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: the parameters cell is not valid Python ({exc.msg}, line {exc.lineno})") from None
    declared: dict[str, str] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        for target in targets:
            for name in ([target] if isinstance(target, ast.Name) else
                         [e for e in getattr(target, "elts", []) if isinstance(e, ast.Name)]):
                declared[name.id] = ast.get_source_segment(source, node.value) if node.value is not None else ""
    return declared


def load_params_file(path: str | Path) -> dict[str, Any]:
    """A profile's parameters for one chapter; a missing or empty file means no overrides."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ValueError(f"{path} must be a mapping of parameter names to values, got {type(data).__name__}")
    return data


def parse_override(name: str, value: str) -> tuple[str, Any]:
    """`-p name value` → (name, value parsed as a YAML scalar; `1e-3` counts as a float)."""
    if not name.isidentifier():
        raise ValueError(f"parameter name {name!r} is not a valid Python identifier")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        parsed = value
    if isinstance(parsed, str):
        try:
            parsed = float(parsed) if any(c in parsed for c in ".eE") or parsed.lower() in ("nan", "inf") else int(parsed)
        except ValueError:
            pass
    return name, parsed


def check_known_parameters(given: dict[str, Any], declared: dict[str, str] | list[str], *, chapter: str,
                           origin: str) -> None:
    """Raise a ValueError naming every parameter the notebook does not declare, and the declared ones."""
    unknown = [name for name in given if name not in declared]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise ValueError(
            f"unknown parameter{plural} {', '.join(repr(u) for u in unknown)} for chapter {chapter} "
            f"(from {origin}); the notebook's parameters cell declares: {', '.join(declared) or '(nothing)'}")


def resolve_parameters(layout: BookLayout, chapter: str, profile: str,
                       overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The parameters papermill injects: `profile`, then the profile's YAML, then CLI overrides.

    Every name must be declared by the notebook, and the profile must agree with the run's.
    """
    check_profile(profile)
    declared = declared_parameters(layout.notebook(chapter))
    params_path = layout.params_file(profile, chapter)
    if profile != "smoke" and not params_path.exists():
        raise FileNotFoundError(f"{params_path} is missing: the {profile} profile of chapter {chapter} "
                                "needs its settings there (the smoke defaults live in the notebook)")
    from_file = load_params_file(params_path)
    check_known_parameters(from_file, declared, chapter=chapter, origin=str(params_path))
    overrides = dict(overrides or {})
    check_known_parameters(overrides, declared, chapter=chapter, origin="the command line")
    params: dict[str, Any] = {"profile": profile} if "profile" in declared else {}
    params.update(from_file)
    params.update(overrides)
    if params.get("profile", profile) != profile:
        raise ValueError(f"chapter {chapter}: parameter profile={params['profile']!r} contradicts the run's "
                         f"profile {profile!r}; drop it from {params_path.name}/the command line or use --profile")
    return params


def notebook_hygiene_problems(path: str | Path) -> list[str]:
    """What is wrong with a committed chapter: outputs, execution counts, not one `parameters` cell."""
    nb = _read(path)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i} has outputs (clear them before committing)")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has execution_count={cell.execution_count}")
    n_params = len(parameters_cell_indices(nb))
    if n_params != 1:
        problems.append(f"expected exactly one code cell tagged 'parameters', found {n_params}")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"kernelspec is {kernel!r}, expected 'python3'")
    return problems


def notebook_title(path: str | Path) -> str:
    """The first markdown heading of a notebook or .md page (else its file name)."""
    path = Path(path)
    if path.suffix == ".ipynb":
        texts = [c.source for c in _read(path).cells if c.cell_type == "markdown"]
    else:
        texts = [path.read_text(encoding="utf-8")]
    for text in texts:
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return path.stem
