"""Stacked denoising-autoencoder pretraining for DEC and IDEC (Xie et al. 2016, §3.2).

Each encoder/decoder layer pair is trained greedily as a one-hidden-layer denoising autoencoder
(dropout corruption on its input and hidden layer), then the whole stack is fine-tuned end to end.
Both stages reuse `dcca_core.training.loop.fit_autoencoder` and are checkpointed by a hash of
(config, seed, data fingerprint, training code), so a finished model is reused and an interrupted
one resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..checkpoints import Checkpointer, array_fingerprint
from ..models.autoencoders import DEC_MNIST_DIMS, DenseAutoencoder
from ..utils import Timer, get_device, layer_seed
from .loop import TrainHistory, check_training_data, encode, fit_autoencoder

__all__ = ["SDAEConfig", "PretrainResult", "pretrain_sdae", "extend_finetuning", "denoising_loss", "PRETRAIN_CODE"]

# The modules whose source trains the autoencoder: their fingerprint is part of each checkpoint key,
# so a model trained by older code is never reused silently (see dcca_core.checkpoints).
PRETRAIN_CODE = ("dcca_core.training.sdae", "dcca_core.training.loop", "dcca_core.models.autoencoders")


@dataclass
class SDAEConfig:
    """Stacked denoising autoencoder schedule. Paper: SGD lr 0.1, 50k iterations per layer and 100k
    of fine-tuning at batch 256; the defaults here are a CPU-sized Adam schedule (documented change)."""

    dims: tuple[int, ...] = DEC_MNIST_DIMS
    corruption: float = 0.2  # dropout rate on each layer's input and hidden units (paper)
    layerwise_epochs: int = 10
    finetune_epochs: int = 20
    finetune_corruption: float = 0.2  # input dropout while fine-tuning (as pt-sdae); 0 = plain AE
    batch_size: int = 256
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        self.dims = tuple(int(d) for d in self.dims)
        for name in ("corruption", "finetune_corruption"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")
        if self.layerwise_epochs < 0 or self.finetune_epochs < 0 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError(f"need layerwise_epochs ≥ 0, finetune_epochs ≥ 0, batch_size ≥ 1, lr > 0; got {self}")


class _LayerDAE(nn.Module):
    """Layer pair k of the stack as a one-hidden-layer denoising autoencoder (DEC §3.2):
    x̃ = Dropout(x), h = g₁(W₁x̃ + b₁), h̃ = Dropout(h), y = g₂(W₂h̃ + b₂). Shares the stack's layers."""

    def __init__(self, enc: nn.Linear, dec: nn.Linear, hidden_relu: bool, output_relu: bool, corruption: float) -> None:
        super().__init__()
        self.enc, self.dec = enc, dec
        self.hidden_relu, self.output_relu, self.corruption = hidden_relu, output_relu, corruption

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self.enc(x)
        return F.relu(h) if self.hidden_relu else h

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encode(F.dropout(x, self.corruption, self.training))
        y = self.dec(F.dropout(h, self.corruption, self.training))
        return (F.relu(y) if self.output_relu else y), h


def denoising_loss(corruption: float) -> Callable[[nn.Module, torch.Tensor], tuple[torch.Tensor, dict[str, float]]]:
    """`loss_fn` for `fit_autoencoder`: MSE between the clean batch and the reconstruction of a copy
    with a fraction `corruption` of its inputs dropped (a denoising autoencoder, Vincent et al. 2010)."""

    def loss_fn(model: nn.Module, xb: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        noisy = F.dropout(xb, corruption, training=True) if corruption > 0 else xb
        x_hat = model.decode(model.encode(noisy)).reshape(xb.shape)
        loss = F.mse_loss(x_hat, xb)
        return loss, {"mse": float(loss.detach())}

    return loss_fn


@dataclass
class PretrainResult:
    """The fine-tuned autoencoder, per-stage loss histories and the checkpoint key of the result."""

    model: DenseAutoencoder
    layer_histories: list[TrainHistory]
    finetune_history: TrainHistory
    checkpoint_key: str
    seconds: float = 0.0
    reused: bool = False


def _finished_state(ckpt: Checkpointer, epochs: int) -> dict[str, Any] | None:
    state = ckpt.load()
    return state if state is not None and state["epoch"] >= epochs else None


def _stage_key(data: torch.Tensor, seed: int) -> dict[str, Any]:
    """The seed-and-data part of every pretraining checkpoint key (shared so the keys always match)."""
    return {"seed": int(seed), "data": array_fingerprint(data)}


def _finetune_checkpoint(
    config: SDAEConfig, key: dict[str, Any], checkpoint_name: str, checkpoint_dir: Any
) -> Checkpointer:
    return Checkpointer(
        f"{checkpoint_name}-finetune", {**asdict(config), **key}, root=checkpoint_dir, code=PRETRAIN_CODE
    )


def extend_finetuning(
    X: Any,
    config: SDAEConfig,
    from_epochs: int,
    *,
    seed: int = 0,
    checkpoint_name: str = "sdae",
    checkpoint_dir: Any = None,
) -> bool:
    """Let `pretrain_sdae(X, config, ...)` continue the finished `from_epochs`-epoch fine-tuning of
    the same config instead of starting over: its checkpoint is copied under `config`'s key.

    Every epoch reseeds and the optimiser state is checkpointed, so the result is the model trained
    for `config.finetune_epochs` from scratch; measuring several lengths costs only the longest.
    Returns False (and copies nothing) when `config` already has a checkpoint of its own.
    """
    if not 0 < int(from_epochs) < config.finetune_epochs:
        raise ValueError(f"from_epochs must be in (0, {config.finetune_epochs}), got {from_epochs}")
    key = _stage_key(check_training_data(X, flatten=True), seed)
    target = _finetune_checkpoint(config, key, checkpoint_name, checkpoint_dir)
    if target.path.exists():
        return False
    source = _finetune_checkpoint(
        replace(config, finetune_epochs=int(from_epochs)), key, checkpoint_name, checkpoint_dir
    )
    state = source.load()
    found = "nothing" if state is None else f"a checkpoint at epoch {state['epoch']}"
    if state is None or state["epoch"] != int(from_epochs):
        raise FileNotFoundError(
            f"no finished {from_epochs}-epoch fine-tuning to extend at {source.path} "
            f"(found {found}); run pretrain_sdae with finetune_epochs={from_epochs} first"
        )
    target.save(state)
    return True


def pretrain_sdae(
    X: Any,
    config: SDAEConfig | None = None,
    *,
    seed: int = 0,
    device: str = "auto",
    checkpoint_name: str = "sdae",
    checkpoint_dir: Any = None,
    progress: bool = True,
) -> PretrainResult:
    """Greedy layer-wise denoising pretraining, then end-to-end fine-tuning (DEC §3.2).

    Each stage is checkpointed under `<checkpoint_name>-layer<k>` / `<checkpoint_name>-finetune` in
    `checkpoint_dir` (default: `checkpoints_dir()`), keyed by the config, the seed and a fingerprint
    of X; finished stages are loaded instead of trained.
    """
    config = config or SDAEConfig()
    data = check_training_data(X, flatten=True)
    if data.shape[1] != config.dims[0]:
        raise ValueError(f"X has {data.shape[1]} features, config.dims[0] is {config.dims[0]}")
    dev = get_device(device)
    key = _stage_key(data, seed)
    layer_cfg = {k: v for k, v in asdict(config).items() if k not in ("finetune_epochs", "finetune_corruption")}
    layer_ckpts = [
        Checkpointer(
            f"{checkpoint_name}-layer{k}", {**layer_cfg, **key, "layer": k}, root=checkpoint_dir, code=PRETRAIN_CODE
        )
        for k in range(len(config.dims) - 1)
    ]
    final_ckpt = _finetune_checkpoint(config, key, checkpoint_name, checkpoint_dir)

    torch.manual_seed(int(seed))
    model = DenseAutoencoder(config.dims)
    pairs = model.layer_pairs()
    layer_histories: list[TrainHistory] = []
    done = _finished_state(final_ckpt, config.finetune_epochs)
    if done is not None:  # reuse: load the result; only the layer stages' histories are needed
        model.load_state_dict(done["model"])
        for ckpt in layer_ckpts:
            state = ckpt.load()
            layer_histories.append(state["history"] if state is not None else TrainHistory())
        model.eval()
        return PretrainResult(model, layer_histories, done["history"], final_ckpt.digest[:12], reused=True)
    with Timer() as timer:
        features = data
        for k, (enc, dec) in enumerate(pairs):
            layer = _LayerDAE(enc, dec, hidden_relu=k < len(pairs) - 1, output_relu=k > 0, corruption=config.corruption)
            history = fit_autoencoder(
                layer,
                features,
                epochs=config.layerwise_epochs,
                batch_size=config.batch_size,
                lr=config.lr,
                optimizer=config.optimizer,
                device=str(dev),
                seed=layer_seed(seed, k),
                checkpoint=layer_ckpts[k],
                desc=f"layer {k + 1}/{len(pairs)}",
                weight_decay=config.weight_decay,
                progress=progress,
            )
            layer_histories.append(history)
            if k < len(pairs) - 1:
                features = torch.from_numpy(encode(layer, features, device=str(dev)))
        del features
        finetune = fit_autoencoder(
            model,
            data,
            epochs=config.finetune_epochs,
            batch_size=config.batch_size,
            lr=config.lr,
            optimizer=config.optimizer,
            loss_fn=denoising_loss(config.finetune_corruption),
            device=str(dev),
            seed=seed,
            checkpoint=final_ckpt,
            desc="fine-tune",
            weight_decay=config.weight_decay,
            progress=progress,
        )
    model.eval()
    return PretrainResult(model, layer_histories, finetune, final_ckpt.digest[:12], timer.seconds)
