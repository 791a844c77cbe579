"""Top-K DCCA as the reference code builds it: a 1-D conv autoencoder whose latent is the last
encoder layer's activation maps, clustered kernel by kernel (Chadha et al., Sensors 21(16):5488,
2021; reference code iiakash/convolutional_clustering_autoencoder, `networks.CAE_3_bn`).

The pieces here are small enough to check by hand; `dcca_core.training.topk_dcca` trains them.

* `MapsConvAutoencoder`: CAE_3_bn's layout, Conv1d → LeakyReLU → BatchNorm three times (strides
  2, 2, 1; F, 2F, 4F kernels; no padding, no linear layer), a mirrored ConvTranspose1d decoder.
* `per_kernel_kmeans`: k-means with k = 2 on every kernel's map `(N, L3)` separately, as the
  reference's `kmeansalter(embeddings[:, i, :], 2)`: per-kernel centres `(K, 2, L3)`.
* `per_kernel_clustering_loss`: L_C, the mean squared distance of each map to its kernel's assigned
  centre, over the Top-K kernels only (the paper: "an auxiliary loss … for the discriminatory
  latent variables").
* `topk_kernels` (the paper's Top-K: the K kernels whose two centres lie farthest apart) and
  `reference_kernel_rows` (what the reference's masks actually select, its argsort bug included).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..cluster import KMeans
from .dcca import ranks_from_scores

__all__ = [
    "MapsConvAutoencoder",
    "per_kernel_kmeans",
    "center_distances",
    "topk_kernels",
    "reference_kernel_rows",
    "nearest_kernel_centers",
    "per_kernel_clustering_loss",
]


def _valid_length(length: int, kernel_size: int, stride: int) -> int:
    return (length - kernel_size) // stride + 1


class MapsConvAutoencoder(nn.Module):
    """CAE_3_bn: encoder Conv1d(C→F, k, s2) → LeakyReLU → BN → Conv1d(F→2F, k, s2) → LeakyReLU → BN
    → Conv1d(2F→4F, k, s1) → LeakyReLU → BN; the latent is that output, `(N, 4F, L3)`. The decoder
    mirrors it with ConvTranspose1d (output padding chosen so x̂ has the input's length) and ends
    without an activation (the reference's `activations=False`)."""

    def __init__(
        self, n_channels: int, window: int, n_filters: int = 32, kernel_size: int = 3, negative_slope: float = 0.01
    ) -> None:
        super().__init__()
        for name, value in (("n_channels", n_channels), ("window", window), ("n_filters", n_filters)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(kernel_size, (int, np.integer)) or kernel_size < 1:
            raise ValueError(f"kernel_size must be a positive integer, got {kernel_size!r}")
        self.n_channels, self.window, self.n_filters = int(n_channels), int(window), int(n_filters)
        self.kernel_size = int(kernel_size)
        widths = [self.n_channels, self.n_filters, 2 * self.n_filters, 4 * self.n_filters]
        strides = [2, 2, 1]
        lengths = [self.window]
        for s in strides:
            lengths.append(_valid_length(lengths[-1], self.kernel_size, s))
        if lengths[-1] < 1:
            raise ValueError(
                f"window {window} is too short for three unpadded convolutions of size {kernel_size} "
                f"(lengths {lengths}); use a longer window or a smaller kernel"
            )
        self.lengths = lengths  # [L0, L1, L2, L3]
        layers: list[nn.Module] = []
        for i in range(3):
            layers += [
                nn.Conv1d(widths[i], widths[i + 1], self.kernel_size, stride=strides[i]),
                nn.LeakyReLU(negative_slope),
                nn.BatchNorm1d(widths[i + 1]),
            ]
        self.encoder = nn.Sequential(*layers)

        def deconv(i: int) -> nn.ConvTranspose1d:  # length lengths[i+1] → lengths[i]
            base = (lengths[i + 1] - 1) * strides[i] + self.kernel_size
            return nn.ConvTranspose1d(
                widths[i + 1], widths[i], self.kernel_size, stride=strides[i], output_padding=lengths[i] - base
            )

        self.decoder = nn.Sequential(
            deconv(2),
            nn.LeakyReLU(negative_slope),
            nn.BatchNorm1d(widths[2]),
            deconv(1),
            nn.LeakyReLU(negative_slope),
            nn.BatchNorm1d(widths[1]),
            deconv(0),
        )

    @property
    def last_conv(self) -> nn.Conv1d:
        """The bottleneck convolution (the reference's `conv3`), whose weight rows its masks select."""
        conv = self.encoder[6]
        assert isinstance(conv, nn.Conv1d)
        return conv

    @property
    def n_kernels(self) -> int:
        return 4 * self.n_filters

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 3 or x.shape[1] != self.n_channels or x.shape[2] != self.window:
            raise ValueError(f"expected windows of shape (N, {self.n_channels}, {self.window}), got {tuple(x.shape)}")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The latent: activation maps of the bottleneck layer, `(N, 4F, L3)`."""
        self._check(x)
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps = self.features(x)
        return self.decoder(maps), maps


def per_kernel_kmeans(
    maps: Any, n_clusters: int = 2, n_init: int = 10, random_state: int | None = 0, device: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """k-means on each kernel's maps separately: centres `(K, n_clusters, L)` and labels `(N, K)`.

    `maps` is `(N, K, L)`. A dead kernel (the same map for every window) gets its one map as every
    centre and label 0, so its centre distance is 0 and it ranks last.
    """
    acts = maps.detach().cpu().numpy() if isinstance(maps, torch.Tensor) else np.asarray(maps)
    if acts.ndim != 3 or acts.shape[0] < n_clusters:
        raise ValueError(f"maps must be (n_windows ≥ {n_clusters}, n_kernels, length), got shape {acts.shape}")
    n, k, length = acts.shape
    centers = np.empty((k, n_clusters, length), dtype=np.float32)
    labels = np.zeros((n, k), dtype=np.int64)
    for i in range(k):
        x = acts[:, i, :].astype(np.float64)
        if np.ptp(x, axis=0).max() == 0.0:
            centers[i] = x[0]
            continue
        km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state, device=device).fit(x)
        centers[i] = np.asarray(km.cluster_centers_, dtype=np.float32)
        labels[:, i] = km.labels_
    return centers, labels


def center_distances(centers: Any) -> np.ndarray:
    """Per kernel, the Euclidean distance between its two centres: `(K, 2, L)` → `(K,)`."""
    c = np.asarray(centers, dtype=np.float64)
    if c.ndim != 3 or c.shape[1] != 2:
        raise ValueError(f"centres must be (n_kernels, 2, length), got shape {c.shape}")
    return np.linalg.norm(c[:, 0] - c[:, 1], axis=1)


def topk_kernels(distances: Any, k: int) -> np.ndarray:
    """The paper's Top-K: indices (sorted) of the `k` kernels with the largest centre distance."""
    d = np.asarray(distances, dtype=np.float64)
    if not 1 <= k <= len(d):
        raise ValueError(f"K must lie in 1..{len(d)}, got {k}")
    return np.flatnonzero(ranks_from_scores(d) < k)


def reference_kernel_rows(distances: Any, k: int, *, rank_bug: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The `conv3.weight` rows the reference's two optimiser steps update: (clustering rows, reconstruction rows).

    The reference ranks with `ranked = np.argsort(distances)` (ascending; `functions.rank_channels`)
    and zeroes the combined step's gradient where `ranked <= k`, the reconstruction step's where
    `ranked > k`. So the rows that get the clustering gradient are the C − k − 1 with the largest
    distance (inverted and off by one), and with the argsort bug (`rank_bug=True`, as it ran) the
    split is scrambled further: argsort *positions* are read as ranks.
    """
    d = np.asarray(distances, dtype=np.float64)
    order = np.argsort(d, kind="stable")
    if rank_bug:
        ranked = order
    else:
        ranked = np.empty_like(order)
        ranked[order] = np.arange(len(d))
    return np.flatnonzero(ranked > k), np.flatnonzero(ranked <= k)


def nearest_kernel_centers(maps: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """For each window and kernel, the index of the nearer of that kernel's centres: `(N, K)`."""
    d = ((maps.detach()[:, :, None, :] - centers[None].to(maps.dtype)) ** 2).sum(dim=-1)  # (N, K, 2)
    return d.argmin(dim=2)


def per_kernel_clustering_loss(
    maps: torch.Tensor,
    centers: torch.Tensor,
    assignment: torch.Tensor | None = None,
    kernels: torch.Tensor | None = None,
) -> torch.Tensor:
    """L_C = mean over windows, the chosen kernels and positions of (h_ik − μ_i,c(n,i))², centres fixed.

    `maps` `(B, K, L)`; `centers` `(K, 2, L)`; `assignment` `(B, K)`, each window's centre per
    kernel (None: the nearest centre now); `kernels`: the Top-K indices (None: every kernel).
    """
    centers = centers.to(device=maps.device, dtype=maps.dtype)
    if assignment is None:
        assignment = nearest_kernel_centers(maps, centers)
    target = centers[torch.arange(centers.shape[0], device=maps.device)[None, :], assignment.to(maps.device)]
    sq = (maps - target) ** 2
    if kernels is not None:
        sq = sq[:, kernels.to(maps.device)]
    return sq.mean()
