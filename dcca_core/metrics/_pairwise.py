"""Blocked float32 squared distances on centred data, shared by the silhouette and the Dunn index."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..utils import accumulator_device, get_device

UNIT = 2.0**-24  # float32 unit roundoff


@dataclass
class Centred:
    """X - mean as float32 on the device, its exact squared row norms, and where float64 can run."""

    X: torch.Tensor  # (n, d) float32 (or float64), (x - mean) / scale
    sq: torch.Tensor  # (n,) same dtype, ||x_i||^2 (from exact float64 squares)
    acc: torch.device  # float64-capable device (CPU for MPS)
    scale: float = 1.0  # a power of two, so that extreme magnitudes neither overflow nor underflow

    def sq_block(self, I: slice, J: slice, out: torch.Tensor) -> torch.Tensor:
        """out = ||x_j||^2 - 2 x_i.x_j for i in I, j in J (add ||x_i||^2 to get squared distances)."""
        return torch.addmm(self.sq[J].unsqueeze(0), self.X[I], self.X[J].T, alpha=-2.0, out=out)

    def error_bound(self) -> float:
        """A rigorous bound on |float32 squared distance - exact| for any pair (Higham, sec. 3.1).

        Dot products of length d in float32 err by at most d u |x||y|; with the norms, the final
        sums and the rounding of the centred data this stays below (d + 8) u (||x||^2 + ||y||^2).
        """
        return (self.X.shape[1] + 8) * UNIT * 2.0 * float(self.sq.max())


_SAFE = (2.0**-30, 2.0**30)  # spreads for which float32 squares and dot products are safe


def power_of_two_scale(spread: float) -> float:
    """1 for ordinary magnitudes, else the power of two that brings `spread` near 1 (scaling is exact)."""
    if spread == 0 or not math.isfinite(spread) or _SAFE[0] <= spread <= _SAFE[1]:
        return 1.0
    return 2.0 ** round(math.log2(spread))


def spread_bound(Xt: torch.Tensor, mean: torch.Tensor, rows: int = 4096) -> float:
    """An upper bound on max |x_ij - mean_j| from the extremes of X (one cheap pass)."""
    hi, lo = -math.inf, math.inf
    for start in range(0, Xt.shape[0], rows):
        part = Xt[start : start + rows]
        hi, lo = max(hi, float(part.max())), min(lo, float(part.min()))
    return max(hi - float(mean.min()), float(mean.max()) - lo)


def column_mean(Xt: torch.Tensor, acc: torch.device, rows: int = 4096) -> torch.Tensor:
    """Mean of the rows of X in float64 on `acc`, chunked."""
    mean = torch.zeros(Xt.shape[1], dtype=torch.float64, device=acc)
    for start in range(0, Xt.shape[0], rows):
        mean += Xt[start : start + rows].to(acc).sum(0, dtype=torch.float64)
    return mean / Xt.shape[0]


def centre(
    Xt: torch.Tensor,
    device: str | torch.device = "auto",
    rows: int = 4096,
    dtype: torch.dtype = torch.float32,
    order: np.ndarray | None = None,
    mean: torch.Tensor | None = None,
    scale: float | None = None,
) -> Centred:
    """(X - mean) / scale (float64 arithmetic) stored as `dtype` on `device`, rows taken in `order` if given.

    Writing the rows in their final order avoids a second full copy of the data. The scale (a power
    of two, 1 for ordinary data) keeps extreme magnitudes inside float32's range.
    """
    dev = get_device(device)
    acc = accumulator_device(dev)
    n, d = Xt.shape
    mean = column_mean(Xt, acc, rows) if mean is None else mean
    if scale is None:
        scale = power_of_two_scale(spread_bound(Xt, mean, rows))
    idx = None if order is None else torch.as_tensor(order, device=Xt.device)
    X = torch.empty((n, d), dtype=dtype, device=dev)
    sq = torch.empty(n, dtype=dtype, device=dev)
    for start in range(0, n, rows):
        part = Xt[start : start + rows] if idx is None else Xt.index_select(0, idx[start : start + rows])
        xc = part.to(acc, torch.float64) - mean
        xc = (xc if scale == 1.0 else xc / scale).to(dtype)
        X[start : start + rows] = xc.to(dev)
        sq[start : start + rows] = xc.double().square().sum(1).to(dev, dtype)
    return Centred(X=X, sq=sq, acc=acc, scale=scale)


def exact_sq_dists(Xt: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """||x_i - x_j||^2 in float64 from the input itself, for index pairs (i, j)."""
    i, j = i.to(Xt.device), j.to(Xt.device)
    out = torch.empty(i.numel(), dtype=torch.float64)
    for start in range(0, i.numel(), 4096):
        a = Xt[i[start : start + 4096]].to(torch.float64)
        b = Xt[j[start : start + 4096]].to(torch.float64)
        out[start : start + 4096] = (a - b).square().sum(1).cpu()
    return out
