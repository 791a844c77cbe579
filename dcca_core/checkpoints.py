"""Checkpoints keyed by a hash of the configuration, so an interrupted run resumes where it stopped
and a finished one (e.g. a pretrained autoencoder) is reused instead of trained again."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from .paths import repo_root

__all__ = ["config_hash", "Checkpointer", "checkpoints_dir"]


def checkpoints_dir() -> Path:
    """`$DCCA_CHECKPOINT_DIR`, else `<repo>/checkpoints`."""
    env = os.environ.get("DCCA_CHECKPOINT_DIR")
    return Path(env) if env else repo_root() / "checkpoints"


def config_hash(config: dict[str, Any]) -> str:
    """A stable sha256 of a JSON-serialisable config (key order does not matter)."""
    try:
        blob = json.dumps(config, sort_keys=True, default=str)
    except TypeError as exc:
        raise ValueError(f"config must be JSON-serialisable: {exc}") from None
    return hashlib.sha256(blob.encode()).hexdigest()


class Checkpointer:
    """One checkpoint file, `<root>/<name>-<hash12>.pt`, written atomically.

    Anything `torch.save` can store goes in the state dict (model and optimiser states, epoch,
    history, RNG states). A different config gives a different file, so stale states never load.
    """

    def __init__(self, name: str, config: dict[str, Any], root: str | Path | None = None) -> None:
        if not name or "/" in name:
            raise ValueError(f"checkpoint name must be a plain word, got {name!r}")
        self.name = name
        self.config = config
        self.digest = config_hash(config)
        self.root = Path(root) if root is not None else checkpoints_dir()
        self.path = self.root / f"{name}-{self.digest[:12]}.pt"

    def exists(self) -> bool:
        return self.path.exists()

    def save(self, state: dict[str, Any]) -> Path:
        """Write the state through a temp file + rename: an interrupt never leaves half a file."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.root)
        os.close(fd)
        try:
            torch.save({"config": self.config, "state": state}, tmp)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.path

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none. A corrupt file is reported, not trusted."""
        if not self.path.exists():
            return None
        try:
            payload = torch.load(self.path, map_location="cpu", weights_only=False)
        except Exception as exc:  # torch raises several types for a truncated/corrupt file
            raise ValueError(f"checkpoint {self.path} is unreadable ({type(exc).__name__}: {exc}); "
                             f"delete it to start this training again") from None
        if config_hash(payload.get("config", {})) != self.digest:
            raise ValueError(f"checkpoint {self.path} was written for another config; delete it")
        return payload["state"]

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)
