"""Dense (fully connected) autoencoders: the stacked autoencoder of DEC (Xie et al. 2016, §3.2).

The book's autoencoder convention: `encode(x) -> z`, `decode(z) -> x_hat`, `forward(x) -> (x_hat, z)`.
Images (N, H, W) are flattened on the way in and `forward` returns `x_hat` in the input's shape.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import torch
from torch import nn

from .bottleneck import make_bottleneck_norm

__all__ = ["DenseAutoencoder", "DEC_MNIST_DIMS"]

DEC_MNIST_DIMS = (784, 500, 500, 2000, 10)
"""The paper's d–500–500–2000–10 network for 28×28 images (Xie et al. 2016, §4.3)."""


def _check_dims(dims: Sequence[int]) -> list[int]:
    try:
        out = [operator.index(d) for d in dims]
    except TypeError:
        out = []
    if len(out) < 2 or min(out) < 1 or any(isinstance(d, bool) for d in dims):
        raise ValueError(f"dims must be ≥ 2 positive integers (input, ..., embedding), got {list(dims)!r}")
    return out


class DenseAutoencoder(nn.Module):
    """Mirror-symmetric MLP autoencoder: ReLU hidden layers, linear embedding and linear output.

    `dims=[784, 500, 500, 2000, 10]` is DEC's d–500–500–2000–10 encoder; the decoder mirrors it.
    `dropout` is applied after every hidden ReLU (train mode only); the denoising corruption of the
    input lives in the training loss, not here. `bottleneck_norm` ∈ {None, "l2", "batch", "layer"}
    normalises the embedding (Aytekin et al. 2018, eq. 1 for "l2"); the decoder sees the normalised
    code.
    """

    def __init__(
        self, dims: Sequence[int] = DEC_MNIST_DIMS, dropout: float = 0.0, bottleneck_norm: str | None = None
    ) -> None:
        super().__init__()
        self.dims = _check_dims(dims)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.dropout = float(dropout)
        self.bottleneck_norm = bottleneck_norm
        self.encoder = self._stack(self.dims)
        self.norm = make_bottleneck_norm(bottleneck_norm, self.dims[-1])
        self.decoder = self._stack(self.dims[::-1])
        self.reset_parameters()

    def _stack(self, dims: list[int]) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=False)):
            layers.append(nn.Linear(d_in, d_out))
            if i < len(dims) - 2:  # hidden layer: ReLU (+ dropout); the last layer stays linear
                layers.append(nn.ReLU())
                if self.dropout > 0:
                    layers.append(nn.Dropout(self.dropout))
        return nn.Sequential(*layers)

    def reset_parameters(self) -> None:
        """Glorot-uniform weights and zero biases (the Keras/Caffe re-implementations' choice)."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    @property
    def input_dim(self) -> int:
        return self.dims[0]

    @property
    def embedding_dim(self) -> int:
        return self.dims[-1]

    def layer_pairs(self) -> list[tuple[nn.Linear, nn.Linear]]:
        """(encoder layer k: dims[k]→dims[k+1], its mirror in the decoder: dims[k+1]→dims[k]) for each k.

        Greedy layer-wise pretraining trains pair k as one small denoising autoencoder.
        """
        enc = [m for m in self.encoder if isinstance(m, nn.Linear)]
        dec = [m for m in self.decoder if isinstance(m, nn.Linear)][::-1]
        return list(zip(enc, dec, strict=False))

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], -1)
        if flat.shape[1] != self.input_dim:
            raise ValueError(
                f"input has {flat.shape[1]} features per sample, the autoencoder expects "
                f"{self.input_dim} (dims={self.dims})"
            )
        return flat

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding z = f_θ(x), normalised by `bottleneck_norm`."""
        return self.norm(self.encoder(self._flat(x)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Flat reconstruction x̂ = g(z), shape (N, dims[0])."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return self.decode(z).reshape(x.shape), z

    def extra_repr(self) -> str:
        return f"dims={self.dims}, dropout={self.dropout}, bottleneck_norm={self.bottleneck_norm!r}"
