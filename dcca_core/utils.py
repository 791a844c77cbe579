"""Cross-cutting helpers: seeding, device selection, tensors, timing, versions.

One place for each concern, so that no chapter re-implements them.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import time
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import numpy as np
import torch

__all__ = [
    "set_seed",
    "get_device",
    "accumulator_device",
    "as_tensor",
    "check_2d",
    "Timer",
    "keep_torch_threads",
    "progress_bar",
    "PROGRESS_LOG_ENV",
    "library_versions",
    "machine_info",
]


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed python, numpy and torch; with `deterministic`, ask torch for deterministic kernels.

    Same seed, same profile, same CPU → same numbers (the book's determinism rule).
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    if deterministic:
        # Needed by some CUDA kernels (cuBLAS) to be deterministic; harmless on CPU.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        if hasattr(torch.backends, "cudnn"):
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False


def get_device(device: str | torch.device = "auto") -> torch.device:
    """Resolve `"auto"` to cuda → mps → cpu; pass any explicit device through after checking it."""
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise ValueError(f"device must be a string or torch.device, got {type(device).__name__}")
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'mps'") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was requested but CUDA is not available here")
    return resolved


def accumulator_device(device: torch.device) -> torch.device:
    """Where float64 accumulations run: the device itself, except MPS (no float64) → CPU."""
    return torch.device("cpu") if device.type == "mps" else device


def as_tensor(x: Any, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """NumPy array or tensor → tensor of `dtype` on `device` (no copy when already there)."""
    if isinstance(x, torch.Tensor):
        return x.to(device=get_device(device), dtype=dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype, device=get_device(device))


def check_2d(X: Any, name: str = "X", *, finite: bool = True) -> torch.Tensor:
    """NumPy array or tensor → 2-D real tensor (no copy); ValueError naming the argument and the
    problem (dtype, shape, empty, and NaN/inf when `finite`)."""
    if isinstance(X, torch.Tensor):
        t = X.detach()
    else:
        arr = np.asarray(X)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
        if arr.dtype.kind == "b" or arr.dtype == np.float16:
            arr = arr.astype(np.float32)
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"{name} must be real-valued, got dtype {t.dtype}")
    if t.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {tuple(t.shape)}")
    if t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(t.shape)}")
    if finite and t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinity")
    return t


class Timer:
    """Wall-clock timer: `with Timer() as t: ...; t.seconds`."""

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


@contextlib.contextmanager
def keep_torch_threads(threads: int | None = None) -> Iterator[None]:
    """Use `threads` torch intra-op threads inside (if given) and restore the count on exit. Running UMAP (numba's OpenMP layer shares the
    OpenMP pool with torch) raises it to the number of cores, even under OMP_NUM_THREADS=1; two jobs
    sharing the cores then oversubscribe them and every later torch step runs several times slower."""
    before = torch.get_num_threads()
    try:
        if threads is not None:
            torch.set_num_threads(int(threads))
        yield
    finally:
        torch.set_num_threads(before)


PROGRESS_LOG_ENV = "DCCA_PROGRESS_LOG"


class _LineLog:
    """A text file tqdm can write to whose updates are lines (not carriage returns), for `tail -f`."""

    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, text: str) -> None:
        text = text.replace("\r", "\n").replace("\x1b[A", "")
        if text.strip():
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(text if text.endswith("\n") else text + "\n")

    def flush(self) -> None:
        pass


def progress_bar(
    iterable: Any = None,
    *,
    desc: str = "",
    total: int | None = None,
    enabled: bool = True,
    leave: bool = False,
    initial: int = 0,
    mininterval: float = 0.1,
) -> Any:
    """A tqdm progress bar. Under the book runner (`$DCCA_PROGRESS_LOG` set) it goes to that log file,
    one line per update at most every 30 s, so a long run can be followed with `tail -f`; otherwise
    to the terminal or notebook, unless `enabled` is False or `$TQDM_DISABLE` is set."""
    from tqdm.auto import tqdm

    log_path = os.environ.get(PROGRESS_LOG_ENV)
    if log_path:
        from tqdm import tqdm as text_tqdm

        return text_tqdm(
            iterable,
            desc=desc,
            total=total,
            initial=initial,
            disable=not enabled,
            leave=True,
            file=_LineLog(log_path),
            mininterval=30.0,
            ascii=True,
            ncols=100,
        )
    disabled = not enabled or os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes")
    return tqdm(
        iterable, desc=desc, total=total, initial=initial, disable=disabled, leave=leave, mininterval=mininterval
    )


_VERSIONED = (
    "python",
    "dcca_core",
    "torch",
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "matplotlib",
    "umap-learn",
    "papermill",
)


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose changes can move a number in the book."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED[1:]:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine_info() -> dict[str, Any]:
    """What ran the numbers: CPU, cores, torch threads, GPU if any."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
