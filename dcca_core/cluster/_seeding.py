"""Seeding: sklearn's random stream for the initial centres, and greedy (weighted) k-means++.

The draws come from the same NumPy stream as sklearn's, in the same order, so with the same
``random_state`` the seeds usually coincide with sklearn's; the k-means++ steps of all ``n_init`` runs
share one matmul per step. Rows may be sharded over processes (`Comm`): then every process draws the
same numbers, and sums and candidate indices are all-reduced.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from ..utils import accumulator_device
from ._distributed import Comm
from ._kernels import sq_dists

__all__ = ["check_random_state", "draw_seeds", "kmeans_plusplus"]


def check_random_state(seed: Any) -> np.random.RandomState | np.random.Generator:
    """None → NumPy's global RandomState (seeded by `set_seed`), int → RandomState(int), as sklearn."""
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, bool):
        if seed < 0 or seed >= 2**32:
            raise ValueError(f"random_state must be in [0, 2**32), got {seed}")
        return np.random.RandomState(int(seed))
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    raise ValueError(f"random_state must be None, an int, a RandomState or a Generator, got {seed!r}")


def draw_seeds(
    rng: np.random.RandomState | np.random.Generator, init: str, p: np.ndarray, k: int, n_runs: int
) -> list[tuple[Any, ...]]:
    """All random numbers the initialisations need, drawn run after run in sklearn's order.

    `p` is the (global) sample weight normalised to sum 1. k-means++ uses one `choice` then k-1
    `uniform(size=2 + int(ln k))` per run, whatever the data, so drawing them up front consumes the
    stream exactly as sklearn's sequential runs do.
    """
    n = p.size
    trials = 2 + int(np.log(k))
    draws: list[tuple[Any, ...]] = []
    for _ in range(n_runs):
        if init == "random":
            draws.append((np.asarray(rng.choice(n, size=k, replace=False, p=p), dtype=np.int64),))
        else:
            first = int(rng.choice(n, p=p))
            draws.append(
                (first, np.stack([rng.uniform(size=trials) for _ in range(k - 1)]) if k > 1 else np.zeros((0, trials)))
            )
    return draws


def _weighted(d2: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    return d2 if w is None else d2 * w


def kmeans_plusplus(
    Xc: torch.Tensor,
    x_sq: torch.Tensor,
    draws: list[tuple[int, np.ndarray]],
    sample_weight: torch.Tensor | None = None,
    comm: Comm | None = None,
) -> torch.Tensor:
    """Greedy k-means++ for several runs at once, step for step as sklearn's `_kmeans_plusplus`.

    Each new centre is the best (lowest weighted potential) of `2 + int(ln k)` candidates drawn with
    probability proportional to w(x) D(x)^2 (Arthur & Vassilvitskii 2007, sec. 2.2 and 6). `draws`
    holds each run's first (global) index and its (k-1, trials) uniforms. Returns the chosen global
    row indices, (runs, k), on the CPU.
    """
    comm = comm or Comm(False, Xc.shape[0])
    dev, n = Xc.device, Xc.shape[0]
    acc = accumulator_device(dev)  # float64 work (the CPU for MPS)
    w = None if sample_weight is None else sample_weight.to(acc, torch.float64)
    runs = len(draws)
    first = torch.as_tensor([f for f, _ in draws], dtype=torch.long)
    uniforms = torch.as_tensor(np.stack([u for _, u in draws]), dtype=torch.float64, device=acc)
    chosen = [first]
    x_rows = comm.rows(Xc, first)
    d2_first = sq_dists(Xc, x_sq, x_rows, comm.values(x_sq, first).to(dev, torch.float32))
    closest = d2_first.to(acc, torch.float64).T.contiguous()  # (runs, n)
    pot = comm.sum(_weighted(closest, w).sum(1))
    every = torch.arange(runs, device=acc)
    for step in range(uniforms.shape[1]):
        rand = uniforms[:, step, :] * pot.unsqueeze(1)  # (runs, trials)
        cand = _search(torch.cumsum(_weighted(closest, w), 1), rand, comm)
        flat = cand.flatten()
        d2 = sq_dists(Xc, x_sq, comm.rows(Xc, flat), comm.values(x_sq, flat).to(dev, torch.float32))
        d2 = d2.to(acc, torch.float64).T.reshape(runs, cand.shape[1], n)
        torch.minimum(d2, closest.unsqueeze(1), out=d2)
        pots = comm.sum(_weighted(d2, None if w is None else w.view(1, 1, -1)).sum(2))
        best = pots.argmin(1)
        pot = pots[every, best]
        closest = d2[every, best].contiguous()
        chosen.append(cand[every.cpu(), best.cpu()])
    return torch.stack(chosen, 1)


def _search(cums: torch.Tensor, rand: torch.Tensor, comm: Comm) -> torch.Tensor:
    """Global index of the first cumulative potential >= rand (numpy's searchsorted), per run: (runs, trials).

    Sharded: each process searches its own stretch, offset by the totals of the processes before it.
    """
    n = cums.shape[1]
    if not comm.active:
        return torch.searchsorted(cums, rand).clamp_(max=n - 1).cpu()
    totals = comm.gather_rows(cums[:, -1] if n else torch.zeros(cums.shape[0], dtype=cums.dtype, device=cums.device))
    ends = torch.cumsum(totals, 0)  # (world, runs): end of each process's stretch
    starts = ends - totals
    owner = (rand.unsqueeze(0) > ends.unsqueeze(2)).sum(0).clamp_(max=comm.world - 1)  # (runs, trials)
    mine = owner == comm.rank
    local = torch.searchsorted(cums, rand - starts[comm.rank].unsqueeze(1)).clamp_(max=max(n - 1, 0))
    out = torch.where(mine, local + comm.offset, torch.zeros_like(local))
    if comm.rank == comm.world - 1:
        out = torch.where(mine & (local + comm.offset >= comm.n_total), comm.n_total - 1, out)
    return comm.sum(out.cpu())
