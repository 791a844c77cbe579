"""Cross-cutting helpers: seeding (and the derived-seed formulas), device selection, input checks,
batched inference, mean ± sd over seeds, timing, versions.

One place for each concern, so that no chapter re-implements them.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import metadata
from typing import Any, NamedTuple

import numpy as np
import torch

__all__ = [
    "set_seed",
    "get_device",
    "accumulator_device",
    "as_tensor",
    "check_2d",
    "batched",
    "epoch_seed",
    "dec_block_seed",
    "layer_seed",
    "split_seed",
    "MeanSD",
    "mean_sd",
    "metrics_over_seeds",
    "Timer",
    "keep_torch_threads",
    "progress_bar",
    "PROGRESS_LOG_ENV",
    "library_versions",
    "cpu_model",
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


def check_2d(X: Any, name: str = "X", *, finite: bool = True, layout: str = "(n_samples, n_features)") -> torch.Tensor:
    """NumPy array or tensor → 2-D real tensor (no copy, dtype kept); ValueError naming the argument
    and the problem (dtype, shape, empty, and NaN/inf when `finite`). `layout` names the two axes in
    the shape message, e.g. "(n_points, n_channels)" for a sensor series.

    The one 2-D validator: `metrics`, `cluster`, `anomaly`, `preprocess` and `plots` call it. Training
    data of any rank (images, windows) goes through `dcca_core.training.check_training_data`."""
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
        raise ValueError(f"{name} must be 2-D {layout}, got shape {tuple(t.shape)}")
    if t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(t.shape)}")
    if finite and t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinity")
    return t


def batched(
    fn: Callable[[torch.Tensor], Any], X: torch.Tensor, batch_size: int = 1024, device: str | torch.device = "auto"
) -> Any:
    """`fn` over consecutive batches `X[i : i + batch_size]` moved to `device`, without gradients;
    the outputs (a tensor, or a tuple of tensors) are moved to the CPU and concatenated along dim 0.

    The one batched-inference loop of the library (the caller puts its model in eval mode on the
    device first). `dcca_core.training.loop.encode` keeps its own copy of this loop: its source is
    part of the checkpoint keys of every trained model, so it is not edited for a refactor.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
    dev = get_device(device)
    parts: list[Any] = []
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            out = fn(X[i : i + batch_size].to(dev))
            parts.append(tuple(o.cpu() for o in out) if isinstance(out, tuple) else out.cpu())
    if not parts:
        raise ValueError("X is empty: nothing to run the model on")
    if isinstance(parts[0], tuple):
        return tuple(torch.cat(column) for column in zip(*parts, strict=True))
    return torch.cat(parts)


# ---- derived seeds ------------------------------------------------------------------------------
# Every place that turns the run's seed into another seed, in one list. The formulas are fixed: the
# committed results and checkpoints were produced with them, so changing one changes the numbers.
#
#   seed * 100_003 + epoch                    torch, every epoch of `training.loop.fit_autoencoder`
#                                             (written out in loop.py, whose source is part of the
#                                             checkpoint keys; `epoch_seed(seed, epoch)` equals it)
#   seed * 100_003 + 1_000 * phase + epoch    torch, every epoch of DCCA's joint stages 1 and 2
#   seed * 1_000_003 + iteration              the batch order of each block of T DEC/IDEC iterations
#   seed * 31 + layer                         each greedy layer-wise SDAE stage
#   [seed, part]                              NumPy SeedSequence entropy, e.g. chapter 3's per-digit split


def epoch_seed(seed: int, epoch: int, phase: int = 0) -> int:
    """`seed * 100_003 + 1_000 * phase + epoch`: the torch seed of one training epoch. `phase=0` is
    the formula of `training.loop.fit_autoencoder`; DCCA's joint stages use phase 1 and 2."""
    return int(seed) * 100_003 + 1_000 * int(phase) + int(epoch)


def dec_block_seed(seed: int, iteration: int) -> int:
    """`seed * 1_000_003 + iteration`: the generator of the batch order of the DEC/IDEC block of T
    iterations that starts at `iteration` (so a resumed run draws the same batches)."""
    return int(seed) * 1_000_003 + int(iteration)


def layer_seed(seed: int, layer: int) -> int:
    """`seed * 31 + layer`: the training seed of greedy layer-wise pretraining stage `layer`."""
    return int(seed) * 31 + int(layer)


def split_seed(seed: int, part: int) -> list[int]:
    """`[seed, part]`: the entropy of `np.random.default_rng`, one independent stream per part (e.g.
    per anomaly digit) that does not depend on which other parts are run."""
    return [int(seed), int(part)]


# ---- mean ± sd over seeds -----------------------------------------------------------------------


class MeanSD(NamedTuple):
    """Mean and standard deviation over `n` values (e.g. seeds), with the `ddof` the sd used."""

    mean: Any
    sd: Any
    n: int
    ddof: int

    def label(self) -> str:
        """What a "±" shown beside these numbers means, e.g. "mean ± sd over 3 seeds (ddof=1)"."""
        return f"mean ± sd over {self.n} seed{'s' if self.n != 1 else ''} (ddof={self.ddof})"


def mean_sd(values: Any, ddof: int = 1, axis: int = 0) -> MeanSD:
    """Mean and sample standard deviation (`ddof=1` by default) of `values` along `axis`, as float64.

    With `n ≤ ddof` values the sd is NaN (undefined), never a made-up 0. Scalars come back as
    floats, reductions of arrays as arrays. The one owner of "mean ± sd over seeds" in the book.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[axis] == 0:
        raise ValueError(f"need at least one value along axis {axis}, got shape {arr.shape}")
    if ddof < 0:
        raise ValueError(f"ddof must be ≥ 0, got {ddof}")
    n = int(arr.shape[axis])
    mean = arr.mean(axis=axis)
    sd = arr.std(axis=axis, ddof=ddof) if n > ddof else np.full_like(mean, np.nan)
    if np.ndim(mean) == 0:
        return MeanSD(float(mean), float(sd), n, int(ddof))
    return MeanSD(mean, sd, n, int(ddof))


def metrics_over_seeds(
    per_seed: Sequence[Mapping[str, float]], *, ddof: int = 1, spread: Callable[[str], bool] | None = None
) -> dict[str, float]:
    """Per-seed metrics → each metric's mean over the seeds under its own name and, with more than
    `ddof` seeds, its sd (`mean_sd`) as `<name>_std` for the names `spread` accepts (all by
    default); the metrics every seed has, in the first seed's order."""
    runs = list(per_seed)
    if not runs:
        raise ValueError("need the metrics of at least one seed")
    out: dict[str, float] = {}
    for name in runs[0]:
        if all(name in r for r in runs):
            stats = mean_sd([r[name] for r in runs], ddof=ddof)
            out[name] = stats.mean
            if stats.n > ddof and (spread is None or spread(name)):
                out[f"{name}_std"] = stats.sd
    return out


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


# CPU features that change which kernels torch picks, hence the last bits of a trained model
_CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_model(cpuinfo: str | None = None) -> dict[str, Any]:
    """The CPU's model name and the kernel-relevant feature flags, from /proc/cpuinfo where there is one.

    The same seed and settings give slightly different numbers on, e.g., an AMX Xeon and an AVX2 EPYC
    (oneDNN picks other kernels), so a record says which one it ran on; `cpuinfo` is for tests.
    """
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as fh:
                cpuinfo = fh.read()
        except OSError:
            cpuinfo = ""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:  # the first processor's entry
            fields[key.strip()] = value.strip()
    flags = set(fields.get("flags", "").split())
    return {
        "cpu_model": fields.get("model name") or platform.processor() or platform.machine(),
        "cpu_flags": [f for f in _CPU_FLAGS if f in flags],
    }


def machine_info() -> dict[str, Any]:
    """What ran the numbers: CPU model and features, cores, torch threads and kernel level, GPU if any."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        **cpu_model(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
