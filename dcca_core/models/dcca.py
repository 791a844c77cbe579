"""DCCA-lin's network and its clustering arithmetic: the 1-D convolutional autoencoder with a linear
bottleneck, the clustering loss, the kernel ranking and the gradient masks (after the DCCA
repository, iiakash/convolutional_clustering_autoencoder, and "Deep Convolutional Clustering-Based
Time Series Anomaly Detection", Sensors 21(16):5488, 2021). The training schedule and the estimator
are in `dcca_core.training.dcca`, whose docstring gives the method step by step.

This is the chapter's *variant* (DCCA-lin): the clustering loss acts on a linear 8-d code while the
conv kernels are ranked. The reference's method, which clusters each kernel's activation maps, is
`dcca_core.models.topk_dcca` / `dcca_core.training.topk_dcca`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..cluster import KMeans
from ..training.loop import check_training_data
from ..utils import batched, get_device

__all__ = [
    "Conv1dAutoencoder",
    "ANOMALY_RULES",
    "rank_kernels",
    "ranks_from_scores",
    "clustering_loss",
    "joint_loss",
    "assign_to_centers",
    "kernel_gradient_mask",
    "activation_maps",
    "check_windows",
]

ANOMALY_RULES = ("reference", "larger")


def _conv_out(length: int, kernel_size: int, stride: int) -> int:
    padding = kernel_size // 2
    return (length + 2 * padding - kernel_size) // stride + 1


class Conv1dAutoencoder(nn.Module):
    """1-D convolutional autoencoder on `(N, n_channels, window)` windows with a linear bottleneck.

    Encoder: three blocks Conv1d → BatchNorm1d → LeakyReLU with strides 2, 2, 1 and `n_filters`,
    2·`n_filters`, 4·`n_filters` kernels ("same"-style padding), flatten, Linear → `latent_dim`.
    Decoder: the mirror image with ConvTranspose1d; output padding is chosen so that x̂ has exactly
    the input's length for any window length. `features(x)` returns the last encoder layer's
    activation maps `(N, 4F, L3)`, which DCCA ranks kernel by kernel.
    """

    def __init__(
        self,
        n_channels: int,
        window: int,
        n_filters: int = 16,
        kernel_size: int = 5,
        latent_dim: int = 10,
        negative_slope: float = 0.01,
    ) -> None:
        super().__init__()
        for name, value, low in (
            ("n_channels", n_channels, 1),
            ("window", window, 4),
            ("n_filters", n_filters, 1),
            ("latent_dim", latent_dim, 1),
            ("kernel_size", kernel_size, 1),
        ):
            if not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer ≥ {low}, got {value!r}")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (symmetric padding), got {kernel_size}")
        self.n_channels, self.window, self.latent_dim = int(n_channels), int(window), int(latent_dim)
        self.n_filters, self.kernel_size = int(n_filters), int(kernel_size)
        widths = [self.n_channels, n_filters, 2 * n_filters, 4 * n_filters]
        strides = [2, 2, 1]
        lengths = [self.window]
        for s in strides:
            lengths.append(_conv_out(lengths[-1], kernel_size, s))
        self.lengths = lengths  # [L0, L1, L2, L3]
        pad = kernel_size // 2

        def block(conv: nn.Module, width: int) -> nn.Sequential:
            return nn.Sequential(conv, nn.BatchNorm1d(width), nn.LeakyReLU(negative_slope))

        self.encoder_blocks = nn.Sequential(
            *[
                block(nn.Conv1d(widths[i], widths[i + 1], kernel_size, stride=strides[i], padding=pad), widths[i + 1])
                for i in range(3)
            ]
        )
        self.to_latent = nn.Linear(widths[3] * lengths[3], self.latent_dim)
        self.from_latent = nn.Linear(self.latent_dim, widths[3] * lengths[3])

        def deconv(i: int) -> nn.ConvTranspose1d:  # maps length lengths[i+1] back to lengths[i]
            base = (lengths[i + 1] - 1) * strides[i] - 2 * pad + kernel_size
            return nn.ConvTranspose1d(
                widths[i + 1], widths[i], kernel_size, stride=strides[i], padding=pad, output_padding=lengths[i] - base
            )

        self.decoder_blocks = nn.Sequential(block(deconv(2), widths[2]), block(deconv(1), widths[1]), deconv(0))

    @property
    def last_conv(self) -> nn.Conv1d:
        """The last encoder convolution, whose kernels DCCA ranks."""
        return self.encoder_blocks[2][0]

    @property
    def last_norm(self) -> nn.BatchNorm1d:
        return self.encoder_blocks[2][1]

    @property
    def n_kernels(self) -> int:
        return self.last_conv.out_channels

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 3 or x.shape[1] != self.n_channels or x.shape[2] != self.window:
            raise ValueError(f"expected windows of shape (N, {self.n_channels}, {self.window}), got {tuple(x.shape)}")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Activation maps of the last encoder layer, `(N, 4F, L3)`."""
        self._check(x)
        return self.encoder_blocks(x)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_latent(self.features(x).flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.from_latent(z).view(z.shape[0], 4 * self.n_filters, self.lengths[3])
        return self.decoder_blocks(h)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return self.decode(z), z


# --------------------------------------------------------------------------------------------------
# The pieces of the objective, each small enough to check by hand


def assign_to_centers(z: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Index of the nearest centre for every code (hard KMeans assignment)."""
    return torch.cdist(z.detach(), centers.to(z.dtype)).argmin(dim=1)


def clustering_loss(z: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """L_clu: mean squared error between each code and its nearest centre (centres held fixed)."""
    centers = centers.to(device=z.device, dtype=z.dtype)
    return F.mse_loss(z, centers[assign_to_centers(z, centers)])


def joint_loss(
    x: torch.Tensor, x_hat: torch.Tensor, z: torch.Tensor, centers: torch.Tensor, alpha: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(1 - α) L_rec + α L_clu, with its two parts: returns (total, L_rec, L_clu)."""
    rec = F.mse_loss(x_hat, x)
    clu = clustering_loss(z, centers)
    return (1.0 - alpha) * rec + alpha * clu, rec, clu


def rank_kernels(
    activations: Any, random_state: int | None = 0, n_init: int = 3, device: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """Distance between the two KMeans centres of every kernel's activation maps, and their ranks.

    `activations` is `(N, K, L)`. Rank 0 is the kernel whose two clusters lie farthest apart.
    Returns `(distances (K,), ranks (K,))` with `ranks` a permutation of 0..K-1 — ranks, not the
    `argsort` order the original code used (see the module docstring).
    """
    acts = activations.detach().cpu().numpy() if isinstance(activations, torch.Tensor) else np.asarray(activations)
    if acts.ndim != 3 or acts.shape[0] < 2:
        raise ValueError(f"activations must be (n_windows ≥ 2, n_kernels, length), got shape {acts.shape}")
    distances = np.empty(acts.shape[1])
    for k in range(acts.shape[1]):
        maps = acts[:, k, :].astype(np.float64)
        if np.ptp(maps, axis=0).max() == 0.0:  # a dead kernel: every window gives the same map
            distances[k] = 0.0
            continue
        km = KMeans(n_clusters=2, n_init=n_init, random_state=random_state, device=device).fit(maps)
        c = np.asarray(km.cluster_centers_, dtype=np.float64)
        distances[k] = float(np.linalg.norm(c[0] - c[1]))
    return distances, ranks_from_scores(distances)


def ranks_from_scores(scores: Any) -> np.ndarray:
    """Rank of each entry when sorted by decreasing score (0 = largest; ties keep index order)."""
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty_like(order)
    ranks[order] = np.arange(len(order))
    return ranks


def kernel_gradient_mask(model: Conv1dAutoencoder, clustering_kernels: Iterable[int]) -> dict[str, torch.Tensor]:
    """0/1 masks, one per parameter, that keep the clustering loss's gradient only on the clustering
    kernels of the last encoder layer (conv weight rows, bias, batch-norm scale and shift)."""
    kernels = sorted({int(k) for k in clustering_kernels})
    if any(k < 0 or k >= model.n_kernels for k in kernels):
        raise ValueError(f"clustering kernels must lie in 0..{model.n_kernels - 1}, got {kernels}")
    keep = torch.zeros(model.n_kernels)
    keep[kernels] = 1.0
    owned = {
        id(model.last_conv.weight): keep.view(-1, 1, 1),
        id(model.last_conv.bias): keep,
        id(model.last_norm.weight): keep,
        id(model.last_norm.bias): keep,
    }
    masks = {}
    for name, p in model.named_parameters():
        mask = owned.get(id(p))
        masks[name] = (mask.expand_as(p) if mask is not None else torch.zeros_like(p)).to(p.device).clone()
    return masks


def activation_maps(model: Conv1dAutoencoder, X: Any, batch_size: int = 1024, device: str = "auto") -> np.ndarray:
    """Last-encoder-layer activation maps `(N, K, L3)` of all of X (eval mode, no gradients)."""
    data = check_training_data(X)
    dev = get_device(device)
    model.to(dev).eval()
    return batched(model.features, data, batch_size, dev).numpy()


def check_windows(X: Any, name: str, model: nn.Module | None = None) -> np.ndarray:
    """X as float32 windows `(n_windows ≥ 2, n_channels, window)` with finite values, of the shape
    `model` (with `n_channels` and `window`) was built for when one is given; else a ValueError."""
    arr = np.ascontiguousarray(X, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[0] < 2:
        raise ValueError(f"{name} must be windows (n_windows ≥ 2, n_channels, window), got shape {arr.shape}")
    check_training_data(arr, name)  # finite values (the one check of training data)
    if model is not None and arr.shape[1:] != (model.n_channels, model.window):
        raise ValueError(
            f"{name} has windows of shape {arr.shape[1:]}, the model was fitted on {(model.n_channels, model.window)}"
        )
    return arr
