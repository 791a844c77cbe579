"""Checkpoints keyed by what produced them, verified when they are read back.

A checkpoint's key is a hash of its configuration (model, optimiser, seed, a fingerprint of the
data) **and** a fingerprint of the code that trains the model, so an interrupted run resumes where
it stopped, a finished one is reused, and a model trained by older code is never returned silently.
Every file carries a sha256 of its contents; a file that fails the check is moved aside, never
deleted, and reported.

File format (one file per key, `<root>/<name>-<key12>.pt`): a magic line, one JSON header line
(config, code fingerprint, the digest and length of the body), then the body, a `torch.save` blob.
"""

from __future__ import annotations

import datetime as _dt
import errno
import hashlib
import importlib
import io
import json
import logging
import os
import tempfile
import tokenize
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from .paths import writable_dir

__all__ = [
    "config_hash",
    "array_fingerprint",
    "code_fingerprint",
    "Checkpointer",
    "checkpoints_dir",
    "CheckpointError",
    "CheckpointCorruptError",
    "REUSE_ACROSS_CODE_ENV",
]

MAGIC = b"DCCA-CHECKPOINT 2\n"
REUSE_ACROSS_CODE_ENV = "DCCA_REUSE_CHECKPOINTS_ACROSS_CODE"
log = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    """A checkpoint exists but cannot be used; the message names the file and what to do."""


class CheckpointCorruptError(CheckpointError):
    """A checkpoint failed its digest check (bit rot, a truncated copy); it was moved aside."""


def checkpoints_dir() -> Path:
    """`$DCCA_CHECKPOINT_DIR`, else `<repo>/checkpoints`, else the user cache (see dcca_core.paths)."""
    return writable_dir("checkpoints")


def config_hash(config: dict[str, Any]) -> str:
    """A stable sha256 of a JSON-serialisable config (key order does not matter)."""
    try:
        blob = json.dumps(config, sort_keys=True, default=str)
    except TypeError as exc:
        raise ValueError(f"config must be JSON-serialisable: {exc}") from None
    return hashlib.sha256(blob.encode()).hexdigest()


def array_fingerprint(*arrays: Any) -> str:
    """sha256 (16 hex digits) of each array's shape, dtype and bytes: the data part of a checkpoint
    key. NumPy arrays and tensors of the same values give the same fingerprint; None is a marker."""
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            h.update(b"none|")
            continue
        arr = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
        arr = np.ascontiguousarray(arr)
        h.update(f"{arr.shape}|{arr.dtype.str}|".encode())
        h.update(memoryview(arr).cast("B") if arr.size else b"")
    return h.hexdigest()[:16]


def _module_file(module: ModuleType | str) -> Path:
    mod = importlib.import_module(module) if isinstance(module, str) else module
    if getattr(mod, "__file__", None) is None:
        raise ValueError(f"module {mod.__name__} has no source file to fingerprint")
    return Path(mod.__file__)


def _source_digest(path: Path) -> str:
    """sha256 of a Python file's tokens without comments and blank lines: editing a comment or the
    layout of a line keeps the fingerprint; changing code (or a docstring) changes it."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for tok in tokenize.tokenize(fh.readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING):
                continue
            h.update(tok.string.encode())
            h.update(b"\0")
    return h.hexdigest()


def code_fingerprint(modules: Iterable[ModuleType | str]) -> dict[str, str]:
    """Module name → 12-hex digest of its source (see `_source_digest`), for the code that trains a model."""
    out: dict[str, str] = {}
    for module in modules:
        name = module if isinstance(module, str) else module.__name__
        out[name] = _source_digest(_module_file(module))[:12]
    return dict(sorted(out.items()))


def _reuse_across_code() -> bool:
    return os.environ.get(REUSE_ACROSS_CODE_ENV, "").strip().lower() in ("1", "true", "yes")


def _header_digest(header: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps({k: v for k, v in header.items() if k != "header_sha256"}, sort_keys=True, default=str).encode()
    ).hexdigest()


class Checkpointer:
    """One checkpoint file, `<root>/<name>-<key12>.pt`, written atomically and verified on load.

    `config` holds everything that changes the weights; `code` names the modules whose source
    trains them (their fingerprint joins the key). With `$DCCA_REUSE_CHECKPOINTS_ACROSS_CODE=1`
    (or `reuse_across_code=True`) a checkpoint of the same config written by other code is reused,
    with a logged warning — for edits known to be cosmetic.
    """

    def __init__(
        self,
        name: str,
        config: dict[str, Any],
        root: str | Path | None = None,
        *,
        code: Iterable[ModuleType | str] = ("dcca_core.training.loop",),
        reuse_across_code: bool | None = None,
    ) -> None:
        if not name or "/" in name:
            raise ValueError(f"checkpoint name must be a plain word, got {name!r}")
        self.name = name
        self.config = config
        self.code = code_fingerprint(code)
        self.config_digest = config_hash(config)
        self.digest = config_hash({"config": config, "code": self.code})
        self.root = Path(root) if root is not None else checkpoints_dir()
        self.path = self.root / f"{name}-{self.digest[:12]}.pt"
        self.reuse_across_code = _reuse_across_code() if reuse_across_code is None else bool(reuse_across_code)
        self.loaded_from: Path | None = None  # the file the last load() read (another one when reused)

    def sibling(self, suffix: str) -> Checkpointer:
        """A checkpoint of the same config and code under `<name>-<suffix>` (e.g. a snapshot)."""
        other = Checkpointer.__new__(Checkpointer)
        other.__dict__.update(self.__dict__)
        other.name = f"{self.name}-{suffix}"
        if not suffix or "/" in suffix:
            raise ValueError(f"checkpoint suffix must be a plain word, got {suffix!r}")
        other.path = self.root / f"{other.name}-{self.digest[:12]}.pt"
        other.loaded_from = None
        return other

    def exists(self) -> bool:
        """A checkpoint for this key (or, with the opt-out, for this config) is on disk."""
        return self.path.exists() or (self.reuse_across_code and self._same_config_other_code() is not None)

    # ---- writing ---------------------------------------------------------------------------------

    def save(self, state: dict[str, Any]) -> Path:
        """Write the state through a temp file + rename: an interrupt or a full disk never leaves
        half a file, and the previous checkpoint stays as it was."""
        buffer = io.BytesIO()
        torch.save(state, buffer)
        body = buffer.getvalue()
        header = {
            "name": self.name,
            "config": self.config,
            "code": self.code,
            "config_sha256": self.config_digest,
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_bytes": len(body),
            "torch": torch.__version__,
            "written": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        header["header_sha256"] = _header_digest(header)
        tmp: str | None = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.root)
            with os.fdopen(fd, "wb") as fh:
                fh.write(MAGIC)
                fh.write(json.dumps(header, sort_keys=True, default=str).encode() + b"\n")
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise OSError(
                    exc.errno,
                    f"no space left while saving {self.path} ({len(body):,} bytes); "
                    f"the previous checkpoint is unchanged. Free space or point "
                    f"DCCA_CHECKPOINT_DIR at a larger disk, then run again",
                ) from None
            raise
        except BaseException:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            raise
        return self.path

    # ---- reading ---------------------------------------------------------------------------------

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none. A file that fails its digest is moved aside
        and reported (CheckpointCorruptError); one torch cannot read is reported and left in place."""
        path = self.path
        if not path.exists():
            other = self._same_config_other_code() if self.reuse_across_code else None
            if other is None:
                return None
            path = other
        header, body = self._read_verified(path)
        if (
            header.get("config_sha256") != self.config_digest
            or config_hash(header.get("config", {})) != self.config_digest
        ):
            raise CheckpointError(
                f"checkpoint {path} was written for another config than the one asked "
                f"for; it is left in place. Move it away to train this config again"
            )
        if path != self.path:
            changed = sorted(
                k
                for k in set(self.code) | set(header.get("code", {}))
                if self.code.get(k) != header.get("code", {}).get(k)
            )
            log.warning(
                "reusing checkpoint %s, written by other code (changed: %s) because %s is set; "
                "adopted as %s under the current code's key (the old file is kept)",
                path,
                ", ".join(changed) or "none",
                REUSE_ACROSS_CODE_ENV,
                self.path.name,
            )
        try:
            state = torch.load(io.BytesIO(body), map_location="cpu", weights_only=False)
        except Exception as exc:  # noqa: BLE001 - torch raises several types for a body it cannot read
            raise CheckpointError(
                f"checkpoint {path} passed its digest check but torch {torch.__version__} cannot read it "
                f"({type(exc).__name__}: {exc}); it was written by torch {header.get('torch', '?')}. The file "
                f"is left in place: read it with that torch version, or move it away to train again"
            ) from None
        if path != self.path:  # adopt: later runs of this code find it without the opt-out
            self.save(state)
        self.loaded_from = path
        return state

    def _read_verified(self, path: Path) -> tuple[dict[str, Any], bytes]:
        """Header and body of `path` after checking the magic line and both digests."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CheckpointError(f"checkpoint {path} cannot be read ({exc}); it is left in place") from None
        problem = None
        header: dict[str, Any] = {}
        body = b""
        if not raw.startswith(MAGIC):
            problem = "it does not start with the checkpoint marker (an older format, or damaged)"
        else:
            line_end = raw.find(b"\n", len(MAGIC))
            try:
                header = json.loads(raw[len(MAGIC) : line_end])
                if not isinstance(header, dict):
                    raise ValueError("header is not an object")
            except (ValueError, UnicodeDecodeError):
                problem = "its header is damaged"
            else:
                body = raw[line_end + 1 :]
                if header.get("header_sha256") != _header_digest(header):
                    problem = "its header fails its sha256 check"
                elif header.get("body_bytes") != len(body):
                    problem = f"it holds {len(body):,} bytes of weights where {header.get('body_bytes')} were written"
                elif hashlib.sha256(body).hexdigest() != header.get("body_sha256"):
                    problem = "its contents fail their sha256 check"
        if problem is not None:
            aside = self._move_aside(path)
            raise CheckpointCorruptError(
                f"checkpoint {path} is corrupt: {problem}. It was moved aside to {aside} (kept, not deleted); "
                f"the next run trains this model again"
            )
        return header, body

    def _move_aside(self, path: Path) -> Path:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
            n += 1
        os.replace(path, aside)
        return aside

    def _same_config_other_code(self) -> Path | None:
        """The newest `<name>-*.pt` whose header has this config (for the across-code opt-out)."""
        best: tuple[float, Path] | None = None
        for candidate in self.root.glob(f"{self.name}-*.pt"):
            try:
                with candidate.open("rb") as fh:
                    if fh.read(len(MAGIC)) != MAGIC:
                        continue
                    header = json.loads(fh.readline())
            except (OSError, ValueError):
                continue
            if (
                isinstance(header, dict)
                and header.get("config_sha256") == self.config_digest
                and header.get("name") == self.name
            ):
                mtime = candidate.stat().st_mtime
                if best is None or mtime > best[0]:
                    best = (mtime, candidate)
        return best[1] if best else None

    def delete(self) -> None:
        """Remove this key's file (tests and explicit user requests only; never on an error)."""
        self.path.unlink(missing_ok=True)
