"""Row shards over torch.distributed: each process holds its rows; sums, counts and extremes are all-reduced.

`Comm` is the only place that talks to the process group. With one process (or `enabled=False`) every
method is the identity, so the single-machine code path is the same code without communication.
Collectives run on the CPU for gloo and on the current CUDA device for NCCL; tensors are moved there
and back. Global row index g of rank r is `offset + i` for its local row i, ranks in order, so a
sharded fit sees the rows in the order one process would have.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["Comm"]


class Comm:
    """All-reduce helpers over the default process group, or no-ops for a single process."""

    def __init__(self, enabled: bool, n_local: int, name: str = "distributed") -> None:
        self.world, self.rank = 1, 0
        self.dist: Any = None
        if enabled:
            import torch.distributed as dist

            if not (dist.is_available() and dist.is_initialized()):
                raise ValueError(
                    f"{name}=True needs an initialised torch.distributed process group "
                    "(torch.distributed.init_process_group, e.g. under torchrun); none is"
                )
            self.dist = dist
            self.world, self.rank = dist.get_world_size(), dist.get_rank()
        self.device = torch.device("cpu")
        if self.active and self.dist.get_backend() == "nccl":
            self.device = torch.device("cuda", torch.cuda.current_device())
        sizes = self.gather_scalar(float(n_local)).long()
        self.sizes = sizes.tolist()
        self.offset = int(sizes[: self.rank].sum())
        self.n_total = int(sizes.sum())

    @property
    def active(self) -> bool:
        return self.world > 1

    def _reduce(self, t: torch.Tensor, op: str) -> torch.Tensor:
        if not self.active:
            return t
        buf = t.detach().to(self.device).contiguous()
        self.dist.all_reduce(buf, op=getattr(self.dist.ReduceOp, op))
        return buf.to(t.device)

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        """Sum of `t` over the processes (a new tensor when distributed)."""
        return self._reduce(t, "SUM")

    def max(self, t: torch.Tensor) -> torch.Tensor:
        return self._reduce(t, "MAX")

    def min(self, t: torch.Tensor) -> torch.Tensor:
        return self._reduce(t, "MIN")

    def any(self, flag: bool) -> bool:
        """True when `flag` is true on any process (so that every process takes the same branch)."""
        if not self.active:
            return flag
        return bool(self.max(torch.tensor([1.0 if flag else 0.0], dtype=torch.float64)).item() > 0)

    def gather_scalar(self, value: float) -> torch.Tensor:
        """(world,) float64: `value` of every process, in rank order."""
        out = torch.zeros(self.world, dtype=torch.float64)
        out[self.rank] = value
        return self.sum(out)

    def gather_rows(self, t: torch.Tensor) -> torch.Tensor:
        """(world, *t.shape): the same-shaped tensor `t` of every process, stacked in rank order."""
        out = torch.zeros((self.world, *t.shape), dtype=t.dtype, device=t.device)
        out[self.rank] = t
        return self.sum(out)

    def rows(self, X: torch.Tensor, idx: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Rows of global indices `idx` of the sharded matrix whose local part is X (every process gets them).

        On X's device, except float64 rows of an MPS tensor, which come on the CPU.
        """
        idx_t = torch.as_tensor(idx, dtype=torch.long).flatten().cpu()
        dtype = dtype or X.dtype
        if not self.active:
            picked = X[idx_t.to(X.device)]
            if dtype == torch.float64 and X.device.type == "mps":
                picked = picked.cpu()  # MPS has no float64
            return picked.to(dtype)
        local = idx_t - self.offset
        mine = (local >= 0) & (local < X.shape[0])
        out = torch.zeros((idx_t.numel(), X.shape[1]), dtype=dtype, device=X.device)
        if bool(mine.any()):
            out[mine.to(X.device)] = X[local[mine].to(X.device)].to(dtype)
        return self.sum(out)

    def values(self, v: torch.Tensor, idx: Any) -> torch.Tensor:
        """Entries of global indices `idx` of a sharded vector whose local part is v, as float64."""
        return self.rows(v.reshape(-1, 1), idx, torch.float64).flatten()

    def broadcast_array(self, a: np.ndarray) -> np.ndarray:
        """Rank 0's float64 array of known shape on every process."""
        t = torch.as_tensor(np.asarray(a, dtype=np.float64))
        if not self.active:
            return t.numpy()
        if self.rank != 0:
            t = torch.zeros_like(t)
        return self.sum(t).numpy()

    def gather_vector(self, v: torch.Tensor) -> torch.Tensor:
        """The sharded vector v of every process concatenated in rank order (all processes get it)."""
        if not self.active:
            return v
        out = torch.zeros(self.n_total, dtype=v.dtype, device=v.device)
        out[self.offset : self.offset + v.numel()] = v
        return self.sum(out)
