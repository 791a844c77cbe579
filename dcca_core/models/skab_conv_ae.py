"""The network of SKAB's Conv-AE leaderboard entry (waico/SKAB, `core/Conv_AE.py` at b2c0d46), in PyTorch.

Keras layers, channels last in the original, channels first here:
Conv1D(32, 7, stride 2, "same", ReLU) → Dropout(0.2) → Conv1D(16, 7, stride 2, "same", ReLU) →
Conv1DTranspose(16, 7, stride 2, "same", ReLU) → Dropout(0.2) → Conv1DTranspose(32, 7, stride 2,
"same", ReLU) → Conv1DTranspose(**1**, 7, "same"). The last layer has one filter whatever the number
of input channels (the layout comes from a one-channel Keras tutorial), so the network reconstructs
every channel with one shared series and the loss broadcasts it; `out_channels=None` gives one
output per input channel instead (our correction, not the leaderboard's model).

"same" padding is TensorFlow's: for a strided convolution the extra padding element goes on the
right, and a transposed convolution crops its full output the same way; both are emulated exactly,
so the sequence alignment is the original's. Glorot-uniform kernels and zero biases, as Keras.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["SkabConvNet"]

KERNEL = 7


def _same_pads(length: int, stride: int, kernel: int = KERNEL) -> tuple[int, int]:
    """TensorFlow's "same" padding (left, right) of a strided convolution over `length` samples."""
    out = -(-length // stride)
    total = max((out - 1) * stride + kernel - length, 0)
    return total // 2, total - total // 2


class _SameConv(nn.Conv1d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, _same_pads(x.shape[-1], self.stride[0])))


class _SameConvTranspose(nn.ConvTranspose1d):
    """Transposed "same" convolution: output length = input length × stride, cropped as TF does."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        full = super().forward(x)
        length = x.shape[-1] * self.stride[0]
        left = max((x.shape[-1] - 1) * self.stride[0] + KERNEL - length, 0) // 2
        return full[..., left : left + length]


class SkabConvNet(nn.Module):
    """SKAB's Conv-AE: windows `(N, C, L)` → reconstruction `(N, 1, L)` (or `(N, C, L)` with
    `out_channels=None`); L must be a multiple of 4 (two stride-2 stages)."""

    def __init__(self, n_channels: int, out_channels: int | None = 1, dropout: float = 0.2) -> None:
        super().__init__()
        if n_channels < 1:
            raise ValueError(f"n_channels must be ≥ 1, got {n_channels}")
        self.out_channels = n_channels if out_channels is None else int(out_channels)
        self.layers = nn.Sequential(
            _SameConv(n_channels, 32, KERNEL, stride=2),
            nn.ReLU(),
            nn.Dropout(dropout),
            _SameConv(32, 16, KERNEL, stride=2),
            nn.ReLU(),
            _SameConvTranspose(16, 16, KERNEL, stride=2),
            nn.ReLU(),
            nn.Dropout(dropout),
            _SameConvTranspose(16, 32, KERNEL, stride=2),
            nn.ReLU(),
            _SameConvTranspose(32, self.out_channels, KERNEL, stride=1),
        )
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 4:
            raise ValueError(f"window length must be a multiple of 4 (two stride-2 stages), got {x.shape[-1]}")
        return self.layers(x)
