"""Convolutional autoencoder for 28×28 images with a switchable bottleneck normalisation.

The architecture is DCEC's CAE (Guo et al. 2017), the conv setting of Aytekin et al. (2018, Table II):
conv 5×5/32 → conv 5×5/64 → conv 3×3/128 (all stride 2, ReLU) → dense embedding (linear) →
[bottleneck norm] → dense → deconv 3×3/64 → deconv 5×5/32 → deconv 5×5/1 (stride 2, linear output).
With `bottleneck_norm="l2"` the decoder reconstructs from E_c(I) = E(I)/‖E(I)‖₂ (Aytekin eq. 1);
"batch" and "layer" are the normalisations of their Table III ablation.
"""

from __future__ import annotations

import torch
from torch import nn

from .bottleneck import BOTTLENECK_NORMS, make_bottleneck_norm

__all__ = ["ConvAutoencoder"]


class ConvAutoencoder(nn.Module):
    """DCEC-style convolutional autoencoder for 28×28 inputs: `encode`, `decode`, `forward -> (x_hat, z)`.

    Accepts images as (N, 28, 28), (N, C, 28, 28) or flattened (N, C·784); `forward` returns the
    reconstruction in the input's shape, so a plain MSE against the input is the training loss.
    """

    side = 28

    def __init__(
        self,
        filters: tuple[int, int, int] = (32, 64, 128),
        embedding_dim: int = 10,
        bottleneck_norm: str | None = None,
        in_channels: int = 1,
    ) -> None:
        super().__init__()
        if len(filters) != 3 or any(int(f) < 1 for f in filters):
            raise ValueError(f"filters must be three positive channel counts, got {filters!r}")
        if embedding_dim < 1:
            raise ValueError(f"embedding_dim must be ≥ 1, got {embedding_dim}")
        if in_channels < 1:
            raise ValueError(f"in_channels must be ≥ 1, got {in_channels}")
        if bottleneck_norm not in BOTTLENECK_NORMS and bottleneck_norm != "none":
            raise ValueError(f"bottleneck_norm must be one of {BOTTLENECK_NORMS}, got {bottleneck_norm!r}")
        f1, f2, f3 = (int(f) for f in filters)
        self.filters = (f1, f2, f3)
        self.embedding_dim = int(embedding_dim)
        self.bottleneck_norm = None if bottleneck_norm == "none" else bottleneck_norm
        self.in_channels = int(in_channels)
        self.features = nn.Sequential(  # 28 → 14 → 7 → 3
            nn.Conv2d(in_channels, f1, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(f1, f2, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(f2, f3, 3, stride=2, padding=0),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.embed = nn.Linear(f3 * 9, embedding_dim)
        self.norm = make_bottleneck_norm(self.bottleneck_norm, embedding_dim)
        self.expand = nn.Sequential(nn.Linear(embedding_dim, f3 * 9), nn.ReLU())
        self.reconstruct = nn.Sequential(  # 3 → 7 → 14 → 28
            nn.ConvTranspose2d(f3, f2, 3, stride=2, padding=0),
            nn.ReLU(),
            nn.ConvTranspose2d(f2, f1, 5, stride=2, padding=2, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(f1, in_channels, 5, stride=2, padding=2, output_padding=1),
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Keras' defaults, as DCEC's CAE had them: Glorot-uniform weights and zero biases (PyTorch's
        own default init gives the embedding about 2.5x smaller weights, which the l2 layer feels)."""
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def _as_images(self, x: torch.Tensor) -> torch.Tensor:
        n, c, s = x.shape[0], self.in_channels, self.side
        if x.ndim == 4 and tuple(x.shape[1:]) == (c, s, s):
            return x
        if x.ndim == 3 and c == 1 and tuple(x.shape[1:]) == (s, s):
            return x.unsqueeze(1)
        if x.ndim == 2 and x.shape[1] == c * s * s:
            return x.reshape(n, c, s, s)
        raise ValueError(
            f"ConvAutoencoder expects ({'N, ' if c > 1 else 'N, [1,] '}{s}, {s}) images "
            f"or flat (N, {c * s * s}) vectors with {c} channel(s), got shape {tuple(x.shape)}"
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The (normalised) code the decoder sees: E_c(I) for "l2", E(I) for None."""
        return self.norm(self.embed(self.features(self._as_images(x))))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, C, 28, 28) from codes (N, embedding_dim)."""
        h = self.expand(z).reshape(z.shape[0], self.filters[2], 3, 3)
        return self.reconstruct(h)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return self.decode(z).reshape(x.shape), z
