"""Training, one module per concern: the resumable mini-batch loop every autoencoder uses (`loop`),
DEC's stacked denoising pretraining (`sdae`) and DEC/IDEC's clustering phase (`dec`).
Model definitions live in `dcca_core.models`."""

from .loop import (
    EpochHook,
    TrainHistory,
    check_training_data,
    encode,
    fit_autoencoder,
    make_optimizer,
    reconstruction_loss,
)

__all__ = [
    "EpochHook",
    "TrainHistory",
    "check_training_data",
    "encode",
    "fit_autoencoder",
    "make_optimizer",
    "reconstruction_loss",
]
