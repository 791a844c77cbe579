"""The sparse convolutional autoencoder of the CIFAR-10 course study (Chapter 1).

Architecture, as the study describes it (Keras, "same" padding, 5×5 kernels everywhere):

    encoder  conv(3 filters) + ReLU [L1] → max-pool 2 → conv(1 filter) + ReLU [L1] → max-pool 2
             → code of 1×(H/4)×(W/4) (8×8 = 64 values for a 32×32 grey image)
    decoder  conv(1) + ReLU → upsample 2 → conv(3) + ReLU → upsample 2 → conv(1) + sigmoid

"[L1]" is a Keras *activity* regulariser on the conv output (before pooling). tf.keras 2 adds
`weight · Σ|a| / batch_size` per regularised layer to the loss, so the loss it reports is
MSE + that penalty; `SparseConvAE.loss` computes exactly that and logs both parts.
The study does not state the penalty weight nor the last activation: we default to the weight of the
Keras sparse-autoencoder tutorial (`l1(10e-5)`, i.e. 1e-4) and to a sigmoid output (inputs are in
[0, 1]); both are constructor arguments. Weights start as in Keras (Glorot-uniform, zero biases).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

__all__ = ["SparseConvAEConfig", "SparseConvAE", "sparse_ae_loss"]

_OUT_ACTIVATIONS = ("sigmoid", "relu", "linear")


@dataclass
class SparseConvAEConfig:
    """Hyper-parameters of `SparseConvAE` (defaults = the study's network, our stated choices)."""

    in_channels: int = 1
    kernel_size: int = 5
    hidden_filters: int = 3
    code_filters: int = 1
    l1_weight: float = 1e-4
    out_activation: str = "sigmoid"
    keras_init: bool = True

    def __post_init__(self) -> None:
        for name in ("in_channels", "hidden_filters", "code_filters"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be ≥ 1, got {getattr(self, name)!r}")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd integer ('same' padding), got {self.kernel_size!r}")
        if not self.l1_weight >= 0:
            raise ValueError(f"l1_weight must be ≥ 0, got {self.l1_weight!r}")
        if self.out_activation not in _OUT_ACTIVATIONS:
            raise ValueError(f"out_activation must be one of {_OUT_ACTIVATIONS}, got {self.out_activation!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def _conv(cin: int, cout: int, k: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2)


class SparseConvAE(nn.Module):
    """Sparse conv autoencoder: `encode(x) -> z` (N, code_filters, H/4, W/4), `decode(z) -> x_hat`,
    `forward(x) -> (x_hat, z)`; `loss(x)` = MSE + L1 activity penalty, as Keras reports it."""

    def __init__(self, config: SparseConvAEConfig | None = None, **overrides) -> None:
        super().__init__()
        cfg = config if config is not None else SparseConvAEConfig(**overrides)
        if config is not None and overrides:
            cfg = SparseConvAEConfig(**{**config.to_dict(), **overrides})
        self.config = cfg
        k, c, h, z = cfg.kernel_size, cfg.in_channels, cfg.hidden_filters, cfg.code_filters
        self.enc1 = _conv(c, h, k)
        self.enc2 = _conv(h, z, k)
        self.dec1 = _conv(z, z, k)
        self.dec2 = _conv(z, h, k)
        self.out = _conv(h, c, k)
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")  # Keras UpSampling2D default
        if cfg.keras_init:
            for conv in (self.enc1, self.enc2, self.dec1, self.dec2, self.out):
                nn.init.xavier_uniform_(conv.weight)
                nn.init.zeros_(conv.bias)

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3 and self.config.in_channels == 1:
            x = x.unsqueeze(1)  # (N, H, W) grey images
        if x.ndim != 4 or x.shape[1] != self.config.in_channels:
            raise ValueError(f"x must be (N, {self.config.in_channels}, H, W), got shape {tuple(x.shape)}")
        if x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(
                f"image height and width must be multiples of 4 (two 2× poolings), got {tuple(x.shape[2:])}"
            )
        return x

    def _encode_with_activations(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        a1 = torch.relu(self.enc1(self._check(x)))
        a2 = torch.relu(self.enc2(self.pool(a1)))
        return self.pool(a2), [a1, a2]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code: the second pooled feature map, (N, code_filters, H/4, W/4)."""
        return self._encode_with_activations(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction from a code, (N, in_channels, H, W)."""
        h = self.up(torch.relu(self.dec1(z)))
        h = self.up(torch.relu(self.dec2(h)))
        h = self.out(h)
        if self.config.out_activation == "sigmoid":
            return torch.sigmoid(h)
        if self.config.out_activation == "relu":
            return torch.relu(h)
        return h

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return self.decode(z), z

    def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """MSE(x, x_hat) + l1_weight · Σ_layers Σ|activation| / batch (tf.keras 2 activity L1)."""
        x = self._check(x)
        z, activations = self._encode_with_activations(x)
        mse = nn.functional.mse_loss(self.decode(z), x)
        l1 = sum(a.abs().sum() for a in activations) / x.shape[0]
        penalty = self.config.l1_weight * l1
        total = mse + penalty
        return total, {"mse": float(mse.detach()), "l1_penalty": float(penalty.detach()), "loss": float(total.detach())}


def sparse_ae_loss(model: SparseConvAE, xb: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """`loss_fn` for `dcca_core.training.fit_autoencoder`: the model's MSE + L1 objective."""
    return model.loss(xb)
