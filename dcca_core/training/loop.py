"""A small, resumable mini-batch training loop shared by every autoencoder in the book.

Each epoch reseeds torch from `(seed, epoch)`, so an interrupted run that resumes from its last
checkpoint produces the same weights, bit for bit, as one that never stopped.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..checkpoints import Checkpointer, CheckpointError
from ..utils import Timer, get_device, progress_bar

__all__ = [
    "TrainHistory",
    "EpochHook",
    "fit_autoencoder",
    "encode",
    "reconstruction_loss",
    "make_optimizer",
    "check_training_data",
    "snapshot_checkpoint",
    "PRECISIONS",
]

LossFn = Callable[[nn.Module, torch.Tensor], "tuple[torch.Tensor, dict[str, float]]"]
EpochHook = Callable[[int, nn.Module, "TrainHistory"], None]


@dataclass
class TrainHistory:
    """Mean loss per epoch and whatever else `loss_fn` logged (means over the epoch's batches)."""

    epoch_loss: list[float] = field(default_factory=list)
    logs: list[dict[str, float]] = field(default_factory=list)
    resumed_from_epoch: int = 0
    seconds: float = 0.0  # wall time of the epochs run, summed across resumes (stored in the checkpoint)


PRECISIONS = ("fp32", "bf16")


def reconstruction_loss(model: nn.Module, xb: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean squared error between the input and `model(xb)[0]`, the default objective (in float32
    also under bf16 autocast)."""
    x_hat, _ = model(xb)
    loss = nn.functional.mse_loss(x_hat.float(), xb.float())
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


def snapshot_checkpoint(checkpoint: Checkpointer, epoch: int) -> Checkpointer:
    """Where `fit_autoencoder` keeps the model as it was after `epoch` (see `snapshot_epochs`)."""
    return checkpoint.sibling(f"e{int(epoch):04d}")


def fit_autoencoder(
    model: nn.Module,
    X: Any,
    *,
    epochs: int,
    batch_size: int,
    lr: float = 1e-3,
    optimizer: str = "adam",
    loss_fn: LossFn | None = None,
    device: str = "auto",
    seed: int = 0,
    checkpoint: Checkpointer | None = None,
    desc: str = "",
    weight_decay: float = 0.0,
    progress: bool = True,
    on_epoch_end: EpochHook | None = None,
    precision: str = "fp32",
    channels_last: bool = False,
    snapshot_epochs: Iterable[int] = (),
) -> TrainHistory:
    """Train `model` on `X` for `epochs` epochs of shuffled mini-batches; return the history.

    With a `checkpoint`, the state is saved after every epoch and a later call with the same config
    resumes from it (or returns at once when training had finished). Every epoch reseeds from
    (seed, epoch), so when the key leaves out the epoch count a longer run *extends* a shorter one,
    with the weights training that long from scratch would give. After each epoch in
    `snapshot_epochs` the model is also kept apart, so a run asked for fewer epochs than the
    checkpoint holds returns that snapshot. `on_epoch_end(epoch, model, history)` runs after the
    epoch is timed and before it is saved, so what it logs is checkpointed.
    `precision="bf16"` runs forward and backward under `torch.autocast(dtype=bfloat16)` (weights,
    optimiser and loss stay float32); `channels_last` stores conv weights channels-last (faster
    bf16 convolutions on CPUs with AMX).
    """
    if epochs < 0 or batch_size < 1:
        raise ValueError(f"need epochs ≥ 0 and batch_size ≥ 1, got epochs={epochs}, batch_size={batch_size}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    snapshots = {int(e) for e in snapshot_epochs}
    data = check_training_data(X)
    dev = get_device(device)
    model.to(dev)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    opt = make_optimizer(optimizer, model.parameters(), lr, weight_decay)
    loss_fn = loss_fn or reconstruction_loss
    history = TrainHistory()
    start_epoch = 0
    if checkpoint is not None:
        state = checkpoint.load()
        if state is not None and state["epoch"] > epochs:
            return _load_snapshot(model, checkpoint, epochs, state["epoch"])
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
            bar = progress_bar(
                range(0, n, batch_size), desc=f"{desc or 'train'} epoch {epoch + 1}/{epochs}", enabled=progress
            )
            for start in bar:
                xb = data[order[start : start + batch_size]].to(dev)
                with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                    loss, logs = loss_fn(model, xb)
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"loss became {float(loss)} at epoch {epoch + 1}; lower the learning rate (lr={lr})"
                    )
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
            checkpoint.save(
                {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1, "history": history}
            )
            if epoch + 1 in snapshots:
                snapshot_checkpoint(checkpoint, epoch + 1).save(
                    {"model": model.state_dict(), "epoch": epoch + 1, "history": copy.deepcopy(history)}
                )
    model.eval()
    return history


def _load_snapshot(model: nn.Module, checkpoint: Checkpointer, epochs: int, trained: int) -> TrainHistory:
    """The model after `epochs` epochs from its snapshot, when the checkpoint has trained further."""
    snap = snapshot_checkpoint(checkpoint, epochs).load()
    if snap is None:
        raise CheckpointError(
            f"{checkpoint.path} holds this model trained for {trained} epochs, and no snapshot after "
            f"epoch {epochs} was kept; ask for {trained} epochs, or train with {epochs} in snapshot_epochs "
            f"under another checkpoint folder (DCCA_CHECKPOINT_DIR)"
        )
    model.load_state_dict(snap["model"])
    history = snap["history"]
    history.resumed_from_epoch = epochs
    model.eval()
    return history


@torch.no_grad()
def encode(model: nn.Module, X: Any, batch_size: int = 1024, device: str = "auto") -> np.ndarray:
    """Codes `model.encode(x)` for all of X, in eval mode and without gradients, as float32 NumPy."""
    data = check_training_data(X)
    dev = get_device(device)
    model.to(dev).eval()
    parts = [
        model.encode(data[i : i + batch_size].to(dev)).reshape(min(batch_size, len(data) - i), -1).cpu()
        for i in range(0, len(data), batch_size)
    ]
    return torch.cat(parts).numpy()
