"""The clustering phase of DEC and IDEC on a pretrained autoencoder.

Centres start at our KMeans on the embedding (Xie et al. 2016, §3.1); every T iterations the soft
assignments Q of the *whole* data set give the target P (eq. 3); in between, mini-batch SGD lowers
KL(P‖Q) (eq. 2); training stops when fewer than `tol` (0.1%) of the points change cluster between
two updates. IDEC (Guo et al. 2017, eq. 6) minimises L = L_r + γ·L_c instead, keeping the decoder.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..checkpoints import Checkpointer
from ..cluster import KMEANS_CODE
from ..models.dec import DEC, kl_divergence, target_distribution
from ..utils import Timer, batched, dec_block_seed, get_device, progress_bar
from .loop import check_training_data, encode, make_optimizer
from .sdae import PRETRAIN_CODE

__all__ = ["DECConfig", "DECHistory", "dec_step", "fit_dec", "predict_proba", "DECClusterer", "CLUSTERING_CODE"]

# The modules whose source trains a DEC/IDEC model from a pretrained autoencoder (checkpoint keys):
# every module of KMeans, since each can move DEC's start.
CLUSTERING_CODE = (*PRETRAIN_CODE, "dcca_core.training.dec", "dcca_core.models.dec", *KMEANS_CODE)


@dataclass
class DECConfig:
    """Clustering-phase settings (DEC §3.1, §4.3; IDEC §3.3). `gamma=0` is DEC; `gamma>0` is IDEC
    with L = L_r + γ·L_c (Guo et al. 2017 use γ = 0.1)."""

    n_clusters: int = 10
    alpha: float = 1.0  # Student-t degrees of freedom (paper: 1)
    gamma: float = 0.0  # IDEC weight of the clustering loss; 0 → DEC (no decoder)
    update_interval: int = 140  # T: iterations between full-data target updates
    tol: float = 0.001  # stop when < 0.1% of assignments change between updates
    max_iter: int = 20_000
    batch_size: int = 256
    lr: float = 0.01
    optimizer: str = "sgd"  # paper: SGD, momentum 0.9
    kmeans_n_init: int = 20

    def __post_init__(self) -> None:
        if self.n_clusters < 2:
            raise ValueError(f"n_clusters must be ≥ 2, got {self.n_clusters}")
        if self.update_interval < 1 or self.max_iter < 0 or self.batch_size < 1 or self.kmeans_n_init < 1:
            raise ValueError(f"need update_interval ≥ 1, max_iter ≥ 0, batch_size ≥ 1, kmeans_n_init ≥ 1; got {self}")
        if not 0.0 <= self.tol < 1.0 or self.gamma < 0 or self.alpha <= 0 or self.lr <= 0:
            raise ValueError(f"need 0 ≤ tol < 1, gamma ≥ 0, alpha > 0, lr > 0; got {self}")

    @property
    def method(self) -> str:
        return "IDEC" if self.gamma > 0 else "DEC"


@dataclass
class DECHistory:
    """One entry per target update (iteration 0 = KMeans initialisation): the fraction of labels that
    changed since the previous update (at 0: versus the KMeans labels), and, when true labels were
    given for monitoring only, accuracy/NMI/ARI. `loss`, `kl`, `reconstruction` hold the mean batch
    losses of each block of T iterations, so they have one entry fewer than `iteration`."""

    iteration: list[int] = field(default_factory=list)
    delta_label: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)
    reconstruction: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    nmi: list[float] = field(default_factory=list)
    ari: list[float] = field(default_factory=list)
    converged: bool = False
    n_iter: int = 0
    resumed_from_iter: int = 0
    seconds: float = 0.0


def predict_proba(model: DEC, X: Any, batch_size: int = 1024, device: str = "auto") -> np.ndarray:
    """Soft assignments Q (eq. 1) for all of X, in eval mode, as float64 NumPy (rows sum to 1)."""
    data = check_training_data(X, flatten=True)
    dev = get_device(device)
    model.to(dev).eval()
    return batched(lambda xb: model(xb)[0], data, batch_size, dev).double().numpy()


def _monitor(history: DECHistory, y: np.ndarray | None, labels: np.ndarray) -> None:
    if y is None:
        return
    from ..metrics import ari, cluster_accuracy, nmi

    history.accuracy.append(float(cluster_accuracy(y, labels)))
    history.nmi.append(float(nmi(y, labels)))
    history.ari.append(float(ari(y, labels)))


def _batch_indices(n: int, count: int, batch_size: int, generator: torch.Generator) -> torch.Tensor:
    """`count` mini-batches drawn without replacement, reshuffling after each pass over the data."""
    passes = math.ceil(count * batch_size / n) + 1
    order = torch.cat([torch.randperm(n, generator=generator) for _ in range(passes)])
    return order


def dec_step(
    model: DEC, optimizer: torch.optim.Optimizer, xb: torch.Tensor, pb: torch.Tensor, gamma: float = 0.0
) -> dict[str, float]:
    """One optimiser step on a batch with fixed targets `pb`: DEC minimises KL(P‖Q) (eq. 2), IDEC
    (`gamma` > 0) minimises MSE(x, x̂) + γ·KL(P‖Q) (Guo et al. 2017, eq. 6). Returns the losses."""
    q, z = model(xb)
    kl = kl_divergence(pb, q)
    if gamma > 0:
        rec = F.mse_loss(model.decode(z).reshape(xb.shape), xb)
        loss = rec + gamma * kl
    else:
        rec = torch.zeros((), device=xb.device)
        loss = kl
    optimizer.zero_grad(set_to_none=True)
    if torch.isfinite(loss):
        loss.backward()
        optimizer.step()
    return {"loss": float(loss.detach()), "kl": float(kl.detach()), "reconstruction": float(rec.detach())}


def fit_dec(
    model: DEC,
    X: Any,
    config: DECConfig | None = None,
    *,
    seed: int = 0,
    device: str = "auto",
    checkpoint: Checkpointer | None = None,
    y: Any = None,
    progress: bool = True,
    save_every_s: float = 60.0,
) -> DECHistory:
    """Train `model` (a `DEC` on a pretrained autoencoder) in place; return the per-update history.

    `y` (true labels) is used only to log accuracy per update, never for training. With a
    `checkpoint`, the state is saved at the end of a block of T iterations once `save_every_s`
    seconds have passed since the last save, and at the end; a later call resumes from it (every
    block boundary is a valid resume point, so the result does not depend on when saves happen).
    """
    config = config or DECConfig()
    if model.n_clusters != config.n_clusters or model.alpha != config.alpha:
        raise ValueError(
            f"model has n_clusters={model.n_clusters}, alpha={model.alpha}; config asks "
            f"n_clusters={config.n_clusters}, alpha={config.alpha}"
        )
    data = check_training_data(X, flatten=True)
    n = data.shape[0]
    if n < config.n_clusters:
        raise ValueError(f"need at least n_clusters={config.n_clusters} samples, got {n}")
    y_np = None if y is None else np.asarray(y)
    if y_np is not None and y_np.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {y_np.shape}")
    dev = get_device(device)
    model.to(dev)
    opt = make_optimizer(config.optimizer, model.parameters(), config.lr)
    history = DECHistory()
    it = 0
    state = checkpoint.load() if checkpoint is not None else None
    last_save = time.perf_counter()
    with Timer() as timer:
        if state is not None:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            history, it, prev_labels = state["history"], state["iteration"], state["labels"]
            history.resumed_from_iter = it
        else:
            from ..cluster import KMeans  # centres start at KMeans on the embedding (DEC §3.2)

            z = encode(model.autoencoder, data, device=str(dev))
            km = KMeans(config.n_clusters, n_init=config.kmeans_n_init, random_state=seed, device=str(dev)).fit(z)
            model.assignment.set_centers(torch.as_tensor(np.asarray(km.cluster_centers_), dtype=torch.float32))
            prev_labels = np.asarray(km.labels_)
        bar = progress_bar(total=config.max_iter, initial=it, desc=f"{config.method}", enabled=progress)
        while not history.converged:
            q = torch.from_numpy(predict_proba(model, data, device=str(dev))).float()
            labels = q.argmax(dim=1).numpy()
            if history.iteration and history.iteration[-1] == it:
                pass  # resumed exactly at a recorded update (finished run): nothing new to log
            else:
                delta = float(np.mean(labels != prev_labels))
                history.iteration.append(it)
                history.delta_label.append(delta)
                _monitor(history, y_np, labels)
                bar.set_postfix(
                    changed=f"{delta:.4f}", **({"acc": f"{history.accuracy[-1]:.3f}"} if history.accuracy else {})
                )
                if it > 0 and delta < config.tol:  # the paper's stopping rule
                    history.converged = True
            prev_labels = labels
            if history.converged or it >= config.max_iter:
                break
            target = target_distribution(q.double()).float()
            steps = min(config.update_interval, config.max_iter - it)
            generator = torch.Generator().manual_seed(dec_block_seed(seed, it))
            order = _batch_indices(n, steps, config.batch_size, generator)
            model.train()
            sums = np.zeros(3)
            for s in range(steps):
                idx = order[s * config.batch_size : (s + 1) * config.batch_size]
                losses = dec_step(model, opt, data[idx].to(dev), target[idx].to(dev), config.gamma)
                if not math.isfinite(losses["loss"]):
                    raise FloatingPointError(
                        f"{config.method} loss became {losses['loss']} at iteration "
                        f"{it + s}; lower the learning rate (lr={config.lr})"
                    )
                sums += [losses["loss"], losses["kl"], losses["reconstruction"]]
            it += steps
            bar.update(steps)
            history.loss.append(sums[0] / steps)
            history.kl.append(sums[1] / steps)
            history.reconstruction.append(sums[2] / steps)
            if checkpoint is not None and time.perf_counter() - last_save >= save_every_s:
                checkpoint.save(
                    {
                        "model": model.state_dict(),
                        "optimizer": opt.state_dict(),
                        "iteration": it,
                        "labels": prev_labels,
                        "history": history,
                    }
                )
                last_save = time.perf_counter()
        bar.close()
    history.n_iter = it
    history.seconds += timer.seconds
    model.eval()
    if checkpoint is not None:
        checkpoint.save(
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "iteration": it,
                "labels": prev_labels,
                "history": history,
            }
        )
    return history


class DECClusterer:
    """sklearn-style DEC/IDEC on a pretrained autoencoder (copied, never modified).

    `DECClusterer(ae, DECConfig(gamma=0.1)).fit(X)` sets `model_`, `labels_`, `cluster_centers_`,
    `history_`, `n_iter_`; `predict`, `predict_proba` and `transform` (the embedding) follow.
    """

    def __init__(
        self,
        autoencoder: nn.Module,
        config: DECConfig | None = None,
        *,
        random_state: int = 0,
        device: str = "auto",
        checkpoint: Checkpointer | None = None,
        progress: bool = True,
    ) -> None:
        self.autoencoder = autoencoder
        self.config = config or DECConfig()
        self.random_state = random_state
        self.device = device
        self.checkpoint = checkpoint
        self.progress = progress

    def fit(self, X: Any, y: Any = None) -> DECClusterer:
        """Train on X; `y`, if given, is only logged per update (accuracy curve), never used to train."""
        torch.manual_seed(int(self.random_state))
        self.model_ = DEC(copy.deepcopy(self.autoencoder), self.config.n_clusters, self.config.alpha)
        self.history_ = fit_dec(
            self.model_,
            X,
            self.config,
            seed=self.random_state,
            device=self.device,
            checkpoint=self.checkpoint,
            y=y,
            progress=self.progress,
        )
        self.n_iter_ = self.history_.n_iter
        self.cluster_centers_ = self.model_.assignment.centers.detach().cpu().numpy().copy()
        self.labels_ = self.predict(X)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("this DECClusterer is not fitted yet; call fit(X) first")

    def predict_proba(self, X: Any) -> np.ndarray:
        self._check_fitted()
        return predict_proba(self.model_, X, device=self.device)

    def predict(self, X: Any) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)

    def transform(self, X: Any) -> np.ndarray:
        self._check_fitted()
        return encode(self.model_.autoencoder, check_training_data(X, flatten=True), device=self.device)
