"""DCCA-lin's training and estimator: the Deep Convolutional Clustering Autoencoder for unsupervised anomaly detection on
multichannel windows (after the DCCA repository, iiakash/convolutional_clustering_autoencoder, and
"Deep Convolutional Clustering-Based Time Series Anomaly Detection", Sensors 21(16):5488, 2021).

The method, in the order `DCCA.fit` runs it:

1. **Pretraining.** A 1-D convolutional autoencoder (three conv blocks with strides 2, 2, 1 and
   F, 2F, 4F kernels, batch norm and LeakyReLU; a linear bottleneck; a mirrored decoder) is trained
   on reconstruction, L_rec = mean ||x - x̂||².
2. **Initial centres.** KMeans with k = 2 (`dcca_core.cluster.KMeans`) on the codes z gives μ_0, μ_1.
3. **Joint training, stage 1.** L = (1 - α) L_rec + α L_clu with L_clu = mean ||z - μ_c(z)||² / d,
   the mean squared error between each code and its nearest centre. Every `update_interval` epochs
   the centres are re-estimated by KMeans on all codes (eval mode), started from the current centres
   so that centre 0 stays centre 0. The decoder stays attached, so the codes cannot collapse.
4. **Kernel ranking.** For each kernel of the last encoder layer, its activation maps over all
   windows are clustered with k = 2 and the Euclidean distance between the two centres is taken;
   kernels are ranked by it (rank 0 = farthest apart). The top `n_clustering_kernels` are the
   *clustering kernels*, the rest the *reconstruction kernels*.
5. **Joint training, stage 2.** Same loss, but the clustering loss updates only the clustering
   kernels (their conv weights, biases and batch-norm scale/shift): the step direction is
   (1 - α) ∇L_rec + α M ⊙ ∇L_clu with a 0/1 mask M; the reconstruction loss updates everything.
6. **Naming the clusters.** Without labels: the *normal* cluster is the one whose centre is nearer
   to the mean code of a reference set assumed normal (`anomaly_rule="reference"`, e.g. the
   training rows of a SKAB run or the fault-free TEP run), or the larger cluster
   (`anomaly_rule="larger"`). A window is anomalous when its nearest centre is the other one; the
   continuous score for ROC curves is the distance to the normal centre.

Three defects of the original code are fixed here, each with a regression test
(`tests/test_dcca.py`):

* `rank_channels` returned `np.argsort(distances)` (the kernel *indices* in sorted order) where
  ranks were meant; `rank_kernels` returns ranks (the inverse permutation).
* joint training called `backward(retain_graph=True)`, stepped the optimiser, then called
  `network_loss.backward()` on the graph of the *old* weights (a stale graph; PyTorch ≥ 1.5 refuses
  it as an in-place modification). `masked_joint_step` takes both gradients from one forward pass
  at the current weights, combines them and steps once.
* the evaluation of the test split clustered the *training* embeddings; `DCCA.transform`,
  `predict` and `score_samples` always encode the array they are given.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from ..checkpoints import Checkpointer, array_fingerprint
from ..cluster import KMEANS_CODE, KMeans
from ..models.dcca import (
    ANOMALY_RULES,
    Conv1dAutoencoder,
    activation_maps,
    check_windows,
    joint_loss,
    kernel_gradient_mask,
    rank_kernels,
)
from ..utils import Timer, batched, epoch_seed, get_device, progress_bar, set_seed
from .loop import TrainHistory, encode, fit_autoencoder, make_optimizer

__all__ = ["DCCAConfig", "DCCAHistory", "DCCA", "TRAINING_CODE", "masked_joint_step", "update_centers"]


def masked_joint_step(
    model: Conv1dAutoencoder,
    xb: torch.Tensor,
    centers: torch.Tensor,
    alpha: float,
    optimizer: torch.optim.Optimizer,
    masks: dict[str, torch.Tensor] | None = None,
) -> dict[str, float]:
    """One optimiser step on (1 - α) L_rec + α L_clu from a single forward pass at the current weights.

    Without `masks` this is plain back-propagation of the joint loss (stage 1). With `masks` the two
    gradients are taken separately from the same graph and combined as (1 - α) ∇L_rec + α M ⊙ ∇L_clu
    (stage 2), then the optimiser steps once — no graph is reused after the weights changed.
    """
    x_hat, z = model(xb)
    total, rec, clu = joint_loss(xb, x_hat, z, centers, alpha)
    if not torch.isfinite(total):
        raise FloatingPointError(f"joint loss became {float(total)}; lower the learning rate")
    optimizer.zero_grad(set_to_none=True)
    if masks is None:
        total.backward()
    else:
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        params = [p for _, p in named]
        g_rec = torch.autograd.grad(rec, params, retain_graph=True, allow_unused=True)
        g_clu = torch.autograd.grad(clu, params, allow_unused=True)
        for (name, p), gr, gc in zip(named, g_rec, g_clu, strict=False):
            grad = torch.zeros_like(p)
            if gr is not None:
                grad += (1.0 - alpha) * gr
            if gc is not None:
                grad += alpha * masks[name] * gc
            p.grad = grad
    optimizer.step()
    return {"loss": float(total.detach()), "rec": float(rec.detach()), "clu": float(clu.detach())}


def update_centers(codes: Any, centers: Any, random_state: int | None = 0, device: str = "auto") -> np.ndarray:
    """KMeans on `codes` started from `centers` (one start), so the centres keep their identities."""
    init = np.asarray(centers, dtype=np.float64)
    km = KMeans(n_clusters=len(init), init=init, n_init=1, random_state=random_state, device=device)
    return np.asarray(km.fit(np.asarray(codes, dtype=np.float64)).cluster_centers_, dtype=np.float32)


@dataclass
class DCCAConfig:
    """Hyper-parameters of DCCA (architecture, the three training phases, cluster naming)."""

    n_filters: int = 8
    kernel_size: int = 5
    latent_dim: int = 8
    negative_slope: float = 0.01
    pretrain_epochs: int = 30
    joint_epochs: int = 10  # stage 1: all parameters get both losses
    masked_epochs: int = 10  # stage 2: the clustering loss reaches only the clustering kernels
    alpha: float = 0.1
    n_clustering_kernels: int | None = None  # None → half of the last layer's kernels
    update_interval: int = 1  # epochs between centre re-estimations
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    anomaly_rule: str = "reference"
    kmeans_n_init: int = 10

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {self.alpha}")
        if self.anomaly_rule not in ANOMALY_RULES:
            raise ValueError(f"anomaly_rule must be one of {ANOMALY_RULES}, got {self.anomaly_rule!r}")
        for name in ("pretrain_epochs", "joint_epochs", "masked_epochs"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be ≥ 0, got {getattr(self, name)}")
        if self.update_interval < 1 or self.batch_size < 1:
            raise ValueError(
                f"update_interval and batch_size must be ≥ 1, got {self.update_interval}, {self.batch_size}"
            )


# The modules whose source trains DCCA: their fingerprint is part of each checkpoint key (KMeans
# starts the centres and runs inside stage 1, so all of its modules count).
TRAINING_CODE = ("dcca_core.models.dcca", "dcca_core.training.dcca", "dcca_core.training.loop", *KMEANS_CODE)


@dataclass
class DCCAHistory:
    """Per-epoch means of the losses in each phase."""

    pretrain: TrainHistory = field(default_factory=TrainHistory)
    stage1: list[dict[str, float]] = field(default_factory=list)
    stage2: list[dict[str, float]] = field(default_factory=list)


class DCCA:
    """Deep Convolutional Clustering Autoencoder with sklearn's estimator contract.

    `fit(X, X_pretrain=None, X_reference=None)`: `X` are the windows clustered in the joint stages
    (`(N, n_channels, window)`, unlabelled); `X_pretrain` the windows of the reconstruction
    pretraining (default: `X`); `X_reference` windows assumed normal, used only to name the clusters
    (`anomaly_rule="reference"`). Fitted attributes: `model_`, `centers_`, `normal_cluster_`,
    `kernel_distances_`, `kernel_ranks_`, `clustering_kernels_`, `reconstruction_kernels_`,
    `labels_`, `pretrained_model_` (a copy after pretraining, for the autoencoder baselines),
    `pretrain_codes_` (codes of X after pretraining), `initial_centers_`, `history_`, `fit_seconds_`.
    """

    def __init__(
        self,
        config: DCCAConfig | None = None,
        *,
        seed: int = 0,
        device: str = "auto",
        checkpoint_name: str | None = None,
        progress: bool = False,
        **overrides: Any,
    ) -> None:
        config = config or DCCAConfig()
        self.config = DCCAConfig(**{**asdict(config), **overrides})
        self.seed = seed
        self.device = device
        self.checkpoint_name = checkpoint_name
        self.progress = progress

    # -- helpers ------------------------------------------------------------------------------------
    def _check_windows(self, X: Any, name: str) -> np.ndarray:
        return check_windows(X, name, getattr(self, "model_", None))

    def _joint_phase(
        self, X: np.ndarray, centers: np.ndarray, epochs: int, masks: dict | None, phase: int
    ) -> tuple[np.ndarray, list[dict[str, float]]]:
        cfg, dev = self.config, get_device(self.device)
        model = self.model_.to(dev)
        opt = make_optimizer("adam", model.parameters(), cfg.lr, cfg.weight_decay)
        data = torch.from_numpy(X)
        cent = torch.as_tensor(centers, dtype=torch.float32, device=dev)
        logs: list[dict[str, float]] = []
        for epoch in range(epochs):
            torch.manual_seed(epoch_seed(self.seed, epoch, phase))
            order = torch.randperm(len(data))
            model.train()
            sums = {"loss": 0.0, "rec": 0.0, "clu": 0.0}
            for start in progress_bar(
                range(0, len(data), cfg.batch_size),
                enabled=self.progress,
                desc=f"DCCA stage {phase} epoch {epoch + 1}/{epochs}",
            ):
                idx = order[start : start + cfg.batch_size]
                if len(idx) < 2:  # batch norm needs two windows
                    continue
                out = masked_joint_step(model, data[idx].to(dev), cent, cfg.alpha, opt, masks)
                for k in sums:
                    sums[k] += out[k] * len(idx)
            logs.append({k: v / len(data) for k, v in sums.items()})
            if (epoch + 1) % cfg.update_interval == 0:
                codes = encode(model, X, device=self.device)
                cent = torch.as_tensor(update_centers(codes, cent.cpu().numpy(), self.seed, self.device), device=dev)
        return cent.cpu().numpy(), logs

    # -- fitting ------------------------------------------------------------------------------------
    def fit(self, X: Any, X_pretrain: Any = None, X_reference: Any = None) -> DCCA:
        cfg = self.config
        X = self._check_windows(X, "X")
        Xp = X if X_pretrain is None else self._check_windows(X_pretrain, "X_pretrain")
        Xr = None if X_reference is None else self._check_windows(X_reference, "X_reference")
        if Xp.shape[1:] != X.shape[1:] or (Xr is not None and Xr.shape[1:] != X.shape[1:]):
            raise ValueError("X, X_pretrain and X_reference must hold windows of the same shape")
        if cfg.anomaly_rule == "reference" and Xr is None:
            raise ValueError("anomaly_rule='reference' needs X_reference (windows assumed normal)")
        n_channels, window = X.shape[1:]
        set_seed(self.seed)
        model = Conv1dAutoencoder(
            n_channels, window, cfg.n_filters, cfg.kernel_size, cfg.latent_dim, cfg.negative_slope
        )
        m = cfg.n_clustering_kernels if cfg.n_clustering_kernels is not None else model.n_kernels // 2
        if not 1 <= m <= model.n_kernels:
            raise ValueError(f"n_clustering_kernels must lie in 1..{model.n_kernels}, got {m}")
        self.model_ = model
        identity = {"config": asdict(cfg), "seed": self.seed, "data": array_fingerprint(X, Xp, Xr)}
        final_ckpt = (
            Checkpointer(f"{self.checkpoint_name}-dcca", identity, code=TRAINING_CODE) if self.checkpoint_name else None
        )
        if final_ckpt is not None and (state := final_ckpt.load()) is not None:
            model.load_state_dict(state["model"])
            self.pretrained_model_ = copy.deepcopy(model)
            self.pretrained_model_.load_state_dict(state["pretrained"])
            self.pretrained_model_.eval()
            for key, value in state["attributes"].items():
                setattr(self, key, value)
            model.eval()
            return self
        with Timer() as timer:
            pre_ckpt = (
                Checkpointer(
                    f"{self.checkpoint_name}-pretrain",
                    {
                        "config": {
                            k: v
                            for k, v in asdict(cfg).items()
                            if k
                            in (
                                "n_filters",
                                "kernel_size",
                                "latent_dim",
                                "negative_slope",
                                "pretrain_epochs",
                                "batch_size",
                                "lr",
                                "weight_decay",
                            )
                        },
                        "seed": self.seed,
                        "data": array_fingerprint(Xp),
                    },
                    code=TRAINING_CODE,
                )
                if self.checkpoint_name
                else None
            )
            history = DCCAHistory()
            history.pretrain = fit_autoencoder(
                model,
                Xp,
                epochs=cfg.pretrain_epochs,
                batch_size=cfg.batch_size,
                lr=cfg.lr,
                weight_decay=cfg.weight_decay,
                device=self.device,
                seed=self.seed,
                checkpoint=pre_ckpt,
                desc="DCCA pretrain",
                progress=self.progress,
            )
            self.pretrained_model_ = copy.deepcopy(model).eval()
            self.pretrain_codes_ = encode(model, X, device=self.device)
            km = KMeans(n_clusters=2, n_init=cfg.kmeans_n_init, random_state=self.seed, device=self.device)
            centers = np.asarray(km.fit(self.pretrain_codes_).cluster_centers_, dtype=np.float32)
            self.initial_centers_ = centers.copy()
            centers, history.stage1 = self._joint_phase(X, centers, cfg.joint_epochs, None, phase=1)
            acts = activation_maps(model, X, device=self.device)
            self.kernel_distances_, self.kernel_ranks_ = rank_kernels(acts, random_state=self.seed, device=self.device)
            self.clustering_kernels_ = np.flatnonzero(self.kernel_ranks_ < m)
            self.reconstruction_kernels_ = np.flatnonzero(self.kernel_ranks_ >= m)
            masks = kernel_gradient_mask(model, self.clustering_kernels_)
            masks = {k: v.to(get_device(self.device)) for k, v in masks.items()}
            centers, history.stage2 = self._joint_phase(X, centers, cfg.masked_epochs, masks, phase=2)
            codes = encode(model, X, device=self.device)
            self.centers_ = update_centers(codes, centers, self.seed, self.device)
            self.labels_ = self._nearest(codes)
            if cfg.anomaly_rule == "reference":
                ref = encode(model, Xr, device=self.device).mean(axis=0)
                self.normal_cluster_ = int(np.argmin(np.linalg.norm(self.centers_ - ref, axis=1)))
            else:
                self.normal_cluster_ = int(np.argmax(np.bincount(self.labels_, minlength=2)))
            self.history_ = history
        self.fit_seconds_ = timer.seconds
        model.eval()
        if final_ckpt is not None:
            keys = (
                "pretrain_codes_",
                "initial_centers_",
                "kernel_distances_",
                "kernel_ranks_",
                "clustering_kernels_",
                "reconstruction_kernels_",
                "centers_",
                "labels_",
                "normal_cluster_",
                "history_",
                "fit_seconds_",
            )
            final_ckpt.save(
                {
                    "model": model.state_dict(),
                    "pretrained": self.pretrained_model_.state_dict(),
                    "attributes": {k: getattr(self, k) for k in keys},
                }
            )
        return self

    # -- using the fitted model ---------------------------------------------------------------------
    def _fitted(self) -> None:
        if not hasattr(self, "centers_"):
            raise ValueError("this DCCA is not fitted yet; call fit(X) first")

    def _nearest(self, codes: np.ndarray) -> np.ndarray:
        d = np.linalg.norm(codes[:, None, :] - self.centers_[None, :, :], axis=2)
        return d.argmin(axis=1)

    def transform(self, X: Any) -> np.ndarray:
        """Codes z of the windows in X — always of X itself, never of the training windows."""
        self._fitted()
        return encode(self.model_, self._check_windows(X, "X"), device=self.device)

    def features(self, X: Any) -> np.ndarray:
        """Last-encoder-layer activation maps of X, `(N, K, L3)`."""
        self._fitted()
        return activation_maps(self.model_, self._check_windows(X, "X"), device=self.device)

    def predict_cluster(self, X: Any) -> np.ndarray:
        """Index (0/1) of the nearest centre for every window of X."""
        return self._nearest(self.transform(X))

    def predict(self, X: Any) -> np.ndarray:
        """1 for windows whose nearest centre is the anomalous one, else 0."""
        return (self.predict_cluster(X) != self.normal_cluster_).astype(np.int64)

    def score_samples(self, X: Any) -> np.ndarray:
        """Anomaly score: Euclidean distance of the code to the normal centre (higher = more anomalous)."""
        codes = self.transform(X)
        return np.linalg.norm(codes - self.centers_[self.normal_cluster_], axis=1)

    def reconstruction_error(self, X: Any, pretrained: bool = False, batch_size: int = 1024) -> np.ndarray:
        """Mean squared reconstruction error of every window (the autoencoder baseline's score);
        `pretrained=True` uses the autoencoder as it was before joint training."""
        self._fitted()
        model = self.pretrained_model_ if pretrained else self.model_
        data = torch.from_numpy(self._check_windows(X, "X"))
        dev = get_device(self.device)
        model.to(dev).eval()
        # the difference is taken on the CPU, as before the loop moved to utils.batched
        return batched(
            lambda xb: ((model(xb)[0].cpu() - xb.cpu()) ** 2).mean(dim=(1, 2)), data, batch_size, dev
        ).numpy()

    def pretrained_codes(self, X: Any) -> np.ndarray:
        """Codes of X under the autoencoder as it was before joint training (AE + KMeans baseline)."""
        self._fitted()
        return encode(self.pretrained_model_, self._check_windows(X, "X"), device=self.device)
