"""Chapter notebooks: the `parameters` cell, the params YAML files, CLI overrides, hygiene checks.

Papermill only *warns* about a parameter the notebook does not declare (and the run then silently
uses the default); here it is an error that names the parameter and the declared ones.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import nbformat
import yaml

from .layout import BookLayout, check_profile

__all__ = [
    "parameters_cell_indices",
    "declared_parameters",
    "load_params_file",
    "parse_override",
    "yaml12_load",
    "declared_defaults",
    "coerce_parameter",
    "check_known_parameters",
    "resolve_parameters",
    "notebook_hygiene_problems",
    "notebook_title",
]


def _read(nb_or_path: str | Path | nbformat.NotebookNode) -> nbformat.NotebookNode:
    if isinstance(nb_or_path, nbformat.NotebookNode):
        return nb_or_path
    return nbformat.read(str(nb_or_path), as_version=4)


def parameters_cell_indices(nb_or_path: str | Path | nbformat.NotebookNode) -> list[int]:
    """Indices of the code cells tagged `parameters` (a chapter must have exactly one)."""
    nb = _read(nb_or_path)
    return [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", [])
    ]


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
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        for target in targets:
            for name in (
                [target]
                if isinstance(target, ast.Name)
                else [e for e in getattr(target, "elts", []) if isinstance(e, ast.Name)]
            ):
                declared[name.id] = ast.get_source_segment(source, node.value) if node.value is not None else ""
    return declared


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with the YAML 1.2 core schema for plain scalars: `010` is 10 (not 8),
    `1:30` and `2024-01-01` stay strings, only true/false are booleans (`no`, `on` are strings)."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag.rsplit(":", 1)[-1] not in ("bool", "int", "float", "null", "timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CORE_SCALARS = {
    "bool": (r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    "int": (r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    "float": (
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    "null": (r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
}
for _tag, (_rx, _first) in _CORE_SCALARS.items():
    _Yaml12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_rx), list(_first))


def _core_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    text = loader.construct_scalar(node)
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


def _core_float(loader: yaml.SafeLoader, node: yaml.Node) -> float:
    text = loader.construct_scalar(node).lower()
    return float(text.replace(".inf", "inf").replace(".nan", "nan"))


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _core_int)
_Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _core_float)


def yaml12_load(text: str) -> Any:
    """Parse YAML with the 1.2 core schema (see `_Yaml12Loader`)."""
    return yaml.load(text, Loader=_Yaml12Loader)


def load_params_file(path: str | Path) -> dict[str, Any]:
    """A profile's parameters for one chapter; a missing or empty file means no overrides."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = yaml12_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ValueError(f"{path} must be a mapping of parameter names to values, got {type(data).__name__}")
    return data


def parse_override(name: str, value: str) -> tuple[str, str]:
    """`-p name value` → (name, value): the name is checked here; the value stays text until
    `resolve_parameters` parses it by the type of the notebook's default (`coerce_parameter`)."""
    if not name.isidentifier():
        raise ValueError(f"parameter name {name!r} is not a valid Python identifier")
    return name, value


_UNTYPED = object()


def declared_defaults(declared: dict[str, str]) -> dict[str, Any]:
    """Name → the default's value where the source is a literal (`5`, `"adam"`, `[1, 2]`), else untyped."""
    out: dict[str, Any] = {}
    for name, source in declared.items():
        try:
            out[name] = ast.literal_eval(source) if source else _UNTYPED
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            out[name] = _UNTYPED
    return out


def _kind(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def coerce_parameter(name: str, value: Any, default: Any = _UNTYPED, *, origin: str = "") -> Any:
    """`value` checked against (and, for text from the command line, parsed by) the type of the
    notebook's default: bool takes true/false; int takes decimal digits (`010` is 10); float takes
    any number; str takes the text as given; list/dict take YAML 1.2 flow syntax. `None` (or `null`)
    is accepted where the default is a number, a list, a dict or None, as "all"/"not set".
    Anything else is a ValueError naming the parameter, the value and the expected type."""
    where = f" (from {origin})" if origin else ""
    want = "untyped" if default is _UNTYPED else _kind(default)
    if isinstance(value, str) and want != "str":
        text = value.strip()
        if text in ("None", "none") and want not in ("bool",):
            value = None
        else:
            try:
                value = yaml12_load(text) if text else None
            except yaml.YAMLError as exc:
                raise ValueError(f"parameter {name}={value!r}{where} is not valid YAML: {exc}") from None
    got = _kind(value)
    ok = (
        want in ("untyped", "None")
        or got == want
        or (want == "float" and got == "int")
        or (got == "None" and want in ("int", "float", "list", "dict"))
    )
    if not ok:
        expected = {
            "bool": "true or false",
            "int": "a whole number (decimal)",
            "float": "a number",
            "str": "text",
            "list": "a list such as [1, 2]",
            "dict": "a mapping such as {a: 1}",
        }[want]
        raise ValueError(
            f"parameter {name}={value!r}{where} must be {expected}, like the notebook's default "
            f"{default!r}; got a value of type {got}"
        )
    if want == "float" and got == "int":
        value = float(value)
    return value


def check_known_parameters(
    given: dict[str, Any], declared: dict[str, str] | list[str], *, chapter: str, origin: str
) -> None:
    """Raise a ValueError naming every parameter the notebook does not declare, and the declared ones."""
    unknown = [name for name in given if name not in declared]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise ValueError(
            f"unknown parameter{plural} {', '.join(repr(u) for u in unknown)} for chapter {chapter} "
            f"(from {origin}); the notebook's parameters cell declares: {', '.join(declared) or '(nothing)'}"
        )


def resolve_parameters(
    layout: BookLayout, chapter: str, profile: str, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The parameters papermill injects: `profile`, then the profile's YAML, then CLI overrides.

    Every name must be declared by the notebook, and the profile must agree with the run's.
    """
    check_profile(profile)
    declared = declared_parameters(layout.notebook(chapter))
    params_path = layout.params_file(profile, chapter)
    if profile != "smoke" and not params_path.exists():
        raise FileNotFoundError(
            f"{params_path} is missing: the {profile} profile of chapter {chapter} "
            "needs its settings there (the smoke defaults live in the notebook)"
        )
    from_file = load_params_file(params_path)
    check_known_parameters(from_file, declared, chapter=chapter, origin=str(params_path))
    overrides = dict(overrides or {})
    check_known_parameters(overrides, declared, chapter=chapter, origin="the command line")
    defaults = declared_defaults(declared)
    from_file = {k: coerce_parameter(k, v, defaults[k], origin=str(params_path)) for k, v in from_file.items()}
    overrides = {k: coerce_parameter(k, v, defaults[k], origin="the command line") for k, v in overrides.items()}
    params: dict[str, Any] = {"profile": profile} if "profile" in declared else {}
    params.update(from_file)
    params.update(overrides)
    if params.get("profile", profile) != profile:
        raise ValueError(
            f"chapter {chapter}: parameter profile={params['profile']!r} contradicts the run's "
            f"profile {profile!r}; drop it from {params_path.name}/the command line or use --profile"
        )
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
