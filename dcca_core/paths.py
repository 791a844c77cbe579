"""Where the library writes: data/, results/, checkpoints/.

One rule for every such folder (`writable_dir(kind)`): its environment variable wins
(`DCCA_DATA_DIR`, `DCCA_RESULTS_DIR`, `DCCA_CHECKPOINT_DIR`); else, when `dcca_core` is imported
from a checkout of this repository, the checkout's own folder (`<repo>/data`, ...); else a per-user
cache folder (`platformdirs.user_cache_dir("dcca-book")/<kind>`, e.g. `~/.cache/dcca-book/data`),
so that a `pip install`ed library never writes into whatever the current directory happens to be.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["PACKAGE_DIR", "DIR_ENV_VARS", "checkout_root", "repo_root", "user_cache_root", "writable_dir"]

#: The folder of the imported `dcca_core` package; the checkout test starts here (tests repoint it).
PACKAGE_DIR = Path(__file__).resolve().parent
#: The kinds of folder the library writes to, each with the environment variable that overrides it.
DIR_ENV_VARS = {"data": "DCCA_DATA_DIR", "results": "DCCA_RESULTS_DIR", "checkpoints": "DCCA_CHECKPOINT_DIR"}
_PROJECT_NAME = "dcca-core"  # [project] name in our pyproject.toml, PEP 503-normalised
_APP_NAME = "dcca-book"


def _normalised(name: str) -> str:
    """A distribution name as PEP 503 compares it: lower case, runs of -_. as one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _project_name(pyproject: Path) -> str | None:
    """The `[project] name` of a pyproject.toml, or None when it is unreadable or has none."""
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        import tomllib
    except ImportError:  # Python 3.10: the name = "..." line of the [project] table
        table = re.search(r"^\[project\][ \t]*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        match = table and re.search(r'^name\s*=\s*["\']([^"\']+)["\']', table.group(1), re.M)
        return match.group(1) if match else None
    try:
        name = tomllib.loads(text).get("project", {}).get("name")
    except (tomllib.TOMLDecodeError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def checkout_root() -> Path | None:
    """The repository checkout `dcca_core` is imported from (editable install, tests), else None.

    A checkout is the folder above the package holding a pyproject.toml whose project is dcca-core;
    a package installed into site-packages has no such file beside it.
    """
    package = PACKAGE_DIR.resolve()
    root = package.parent
    name = _project_name(root / "pyproject.toml")
    if name is not None and _normalised(name) == _PROJECT_NAME and (root / "dcca_core").resolve() == package:
        return root
    return None


def repo_root() -> Path:
    """The checkout this package lives in, else the current directory (kept for older callers)."""
    return checkout_root() or Path.cwd()


def user_cache_root() -> Path:
    """The per-user cache folder for this project (platformdirs), used outside a checkout."""
    try:
        import platformdirs
    except ImportError:  # the XDG default platformdirs would give on Linux
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base).expanduser() / _APP_NAME
    return Path(platformdirs.user_cache_dir(_APP_NAME, appauthor=False))


def writable_dir(kind: str) -> Path:
    """Where the library writes `kind` ("data", "results" or "checkpoints"): env var, checkout, user cache."""
    if kind not in DIR_ENV_VARS:
        raise ValueError(f"unknown folder kind {kind!r}; valid kinds: {', '.join(DIR_ENV_VARS)}")
    env = os.environ.get(DIR_ENV_VARS[kind])
    if env:
        return Path(env).expanduser()
    checkout = checkout_root()
    return checkout / kind if checkout is not None else user_cache_root() / kind
