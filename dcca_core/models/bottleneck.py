"""Normalisations of an autoencoder's bottleneck (Aytekin et al. 2018, Table III ablation).

`"l2"` is the paper's E_c(I) = E(I) / ‖E(I)‖₂ (eq. 1); the decoder sees the normalised code during
training. `"batch"` and `"layer"` are the ablation's alternatives; `None` leaves the code as is.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["L2Normalize", "make_bottleneck_norm", "BOTTLENECK_NORMS"]

BOTTLENECK_NORMS = (None, "l2", "batch", "layer")


class L2Normalize(nn.Module):
    """Project each code onto the unit sphere: z / max(‖z‖₂, eps)."""

    def __init__(self, eps: float = 1e-12) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        with torch.autocast(z.device.type, enabled=False):  # in float32 also under bf16 autocast
            flat = z.float().reshape(z.shape[0], -1)
            return (flat / flat.norm(dim=1, keepdim=True).clamp_min(self.eps)).reshape(z.shape)


def make_bottleneck_norm(kind: str | None, dim: int) -> nn.Module:
    """The module for a bottleneck of width `dim`: l2, batch, layer, or identity for None."""
    if kind is None or kind == "none":
        return nn.Identity()
    if kind == "l2":
        return L2Normalize()
    if kind == "batch":
        return nn.BatchNorm1d(dim)
    if kind == "layer":
        return nn.LayerNorm(dim)
    raise ValueError(f"bottleneck norm must be one of {BOTTLENECK_NORMS}, got {kind!r}")
