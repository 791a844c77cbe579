"""Where the repository is, for the folders the library writes to (data/, results/, checkpoints/)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["repo_root"]


def repo_root() -> Path:
    """The checkout this package lives in (editable install), else the current directory."""
    candidate = Path(__file__).resolve().parents[1]
    return candidate if (candidate / "pyproject.toml").exists() else Path.cwd()
