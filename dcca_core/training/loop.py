"""A small, resumable mini-batch training loop shared by every autoencoder in the book.

Each epoch reseeds torch from `(seed, epoch)`, so an interrupted run that resumes from its last
checkpoint produces the same weights, bit for bit, as one that never stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ..checkpoints import Checkpointer
from ..utils import Timer, get_device, progress_bar

__all__ = ["TrainHistory", "EpochHook", "fit_autoencoder", "encode", "reconstruction_loss", "make_optimizer",
           "check_training_data"]

LossFn = Callable[[nn.Module, torch.Tensor], "tuple[torch.Tensor, dict[str, float]]"]
EpochHook = Callable[[int, nn.Module, "TrainHistory"], None]


@dataclass
class TrainHistory:
    """Mean loss per epoch and whatever else `loss_fn` logged (means over the epoch's batches)."""

    epoch_loss: list[float] = field(default_factory=list)
    logs: list[dict[str, float]] = field(default_factory=list)
    resumed_from_epoch: int = 0
    seconds: float = 0.0  # wall time of the epochs run, summed across resumes (stored in the checkpoint)


def reconstruction_loss(model: nn.Module, xb: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean squared error between the input and `model(xb)[0]`, the default objective."""
    x_hat, _ = model(xb)
    loss = nn.functional.mse_loss(x_hat, xb)
    return loss, {"mse": float(loss.detach())}


def make_optimizer(name: str, params: Any, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """'adam' or 'sgd' (momentum 0.9, as in DEC's pretraining)."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}")


def check_training_data(X: Any, name: str = "X", *, flatten: bool = False) -> torch.Tensor:
    """Array or tensor → float32 tensor (n_samples, ...) with n_samples ≥ 1 and finite values (a
    ValueError naming `name` otherwise); `flatten` makes it (n_samples, n_features)."""
    data = X if isinstance(X, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(X))
    if data.ndim < 2 or data.shape[0] == 0:
        raise ValueError(f"{name} must be (n_samples, ...) with n_samples ≥ 1, got shape {tuple(data.shape)}")
    data = data.to(torch.float32)
    if flatten:
        data = data.reshape(data.shape[0], -1)
    if not torch.isfinite(data).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean or impute them before training")
    return data


def fit_autoencoder(model: nn.Module, X: Any, *, epochs: int, batch_size: int, lr: float = 1e-3,
                    optimizer: str = "adam", loss_fn: LossFn | None = None, device: str = "auto",
                    seed: int = 0, checkpoint: Checkpointer | None = None, desc: str = "",
                    weight_decay: float = 0.0, progress: bool = True,
                    on_epoch_end: EpochHook | None = None) -> TrainHistory:
    """Train `model` on `X` for `epochs` epochs of shuffled mini-batches; return the history.

    With a `checkpoint`, the state is saved after every epoch and a later call with the same config
    resumes from it (or returns at once when training had finished). `on_epoch_end(epoch, model,
    history)` runs after the epoch is timed and before it is saved, so what it logs is checkpointed.
    """
    if epochs < 0 or batch_size < 1:
        raise ValueError(f"need epochs ≥ 0 and batch_size ≥ 1, got epochs={epochs}, batch_size={batch_size}")
    data = check_training_data(X)
    dev = get_device(device)
    model.to(dev)
    opt = make_optimizer(optimizer, model.parameters(), lr, weight_decay)
    loss_fn = loss_fn or reconstruction_loss
    history = TrainHistory()
    start_epoch = 0
    if checkpoint is not None:
        state = checkpoint.load()
        if state is not None:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            history = state["history"]
            start_epoch = history.resumed_from_epoch = state["epoch"]
    n = data.shape[0]
    for epoch in range(start_epoch, epochs):
        with Timer() as timer:
            torch.manual_seed(seed * 100_003 + epoch)  # same batches and dropout masks after a resume
            order = torch.randperm(n)
            model.train()
            totals: dict[str, float] = {}
            loss_sum, seen = 0.0, 0
            bar = progress_bar(range(0, n, batch_size), desc=f"{desc or 'train'} epoch {epoch + 1}/{epochs}",
                               enabled=progress)
            for start in bar:
                xb = data[order[start:start + batch_size]].to(dev)
                loss, logs = loss_fn(model, xb)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"loss became {float(loss)} at epoch {epoch + 1}; "
                                             f"lower the learning rate (lr={lr})")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                m = xb.shape[0]
                loss_sum += float(loss.detach()) * m
                seen += m
                for key, value in logs.items():
                    totals[key] = totals.get(key, 0.0) + float(value) * m
            history.epoch_loss.append(loss_sum / seen)
            history.logs.append({k: v / seen for k, v in totals.items()})
        history.seconds += timer.seconds  # saved with the checkpoint, so a reused model keeps its cost
        if on_epoch_end is not None:
            on_epoch_end(epoch, model, history)
        if checkpoint is not None:
            checkpoint.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                             "epoch": epoch + 1, "history": history})
    model.eval()
    return history


@torch.no_grad()
def encode(model: nn.Module, X: Any, batch_size: int = 1024, device: str = "auto") -> np.ndarray:
    """Codes `model.encode(x)` for all of X, in eval mode and without gradients, as float32 NumPy."""
    data = check_training_data(X)
    dev = get_device(device)
    model.to(dev).eval()
    parts = [model.encode(data[i:i + batch_size].to(dev)).reshape(min(batch_size, len(data) - i), -1).cpu()
             for i in range(0, len(data), batch_size)]
    return torch.cat(parts).numpy()
