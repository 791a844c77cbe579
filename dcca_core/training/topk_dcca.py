"""Training Top-K DCCA as Algorithm 1 of the paper and the reference's `train_teastman` schedule it,
with the reference's defects fixed (each fix is tested; the defect itself stays reachable where
showing it is the point):

1. P+1 epochs on reconstruction only (`pretrain_epochs` counts all of them).
2. After the last of them: k-means (k = 2) on every kernel's activation maps, the centre distance
   of every kernel, the Top-K kernels (Algorithm 1, lines 8–11). No unmasked joint stage.
3. Joint epochs on (1 − α) L_R + α L_C; every `update_interval` joint epochs the maps are clustered
   and the kernels ranked again, and after the last epoch once more (the centres used to evaluate).

Masking (`masking`):
* "paper": L_C only on the Top-K kernels' maps, its gradient into every encoder layer; one step.
* "reference": the reference's two steps per batch — the combined loss over all kernels with the
  gradient rows of `conv3.weight` zeroed for its "reconstruction" rows, then L_R alone with the
  other rows zeroed — with its row selection (`reference_kernel_rows`, argsort bug optional). The
  second step's loss is taken from a fresh forward pass: the reference back-propagated through the
  graph of the weights before the first step, which PyTorch ≥ 1.5 refuses.
* "none": L_C over all kernels, no masks (the ablation).

Fixed defects of the reference: clusters from eval-mode maps of all windows after the epoch (not
train-mode maps collected while the weights moved); each window's target is *its own* assignment
at the last update (`targets="update"`, indexed by window, where the reference took the batch at the
same position in the previous epoch, wrong under shuffling); evaluation encodes the array given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from ..checkpoints import Checkpointer, array_fingerprint
from ..cluster import KMEANS_CODE
from ..models.dcca import check_windows
from ..models.topk_dcca import (
    MapsConvAutoencoder,
    center_distances,
    nearest_kernel_centers,
    per_kernel_clustering_loss,
    per_kernel_kmeans,
    reference_kernel_rows,
    topk_kernels,
)
from ..utils import Timer, batched, epoch_seed, get_device, progress_bar, set_seed

__all__ = ["TopKDCCAConfig", "TopKDCCA", "TRAINING_CODE"]

MASKINGS = ("paper", "reference", "none")
TARGETS = ("update", "nearest")
OPTIMIZERS = ("sgd", "adam")
_PHASE = 3  # epoch_seed phase of this loop (DCCA-lin's joint stages use 1 and 2)

# The modules whose source trains Top-K DCCA: their fingerprint is part of each checkpoint key.
TRAINING_CODE = ("dcca_core.models.topk_dcca", "dcca_core.models.dcca", "dcca_core.training.topk_dcca", *KMEANS_CODE)


@dataclass
class TopKDCCAConfig:
    """Hyper-parameters of Top-K DCCA. Defaults follow the reference's TE run where it can be read
    (kernel 3, F = 32 → 128 maps, SGD with momentum 0.2 and Nesterov); the rest is stated, not known."""

    n_filters: int = 32
    kernel_size: int = 3
    negative_slope: float = 0.01
    pretrain_epochs: int = 10  # P + 1: reconstruction only, then the first ranking
    joint_epochs: int = 20
    update_interval: int = 5  # C: joint epochs between cluster updates (and re-rankings)
    n_clustering_kernels: int | None = None  # K; None → half of the 4F kernels
    alpha: float = 0.1
    masking: str = "paper"
    reference_rank_bug: bool = False  # masking="reference" only: read argsort positions as ranks, as it ran
    targets: str = "update"
    optimizer: str = "sgd"  # the reference's; "adam" is a named deviation
    lr: float = 0.01
    momentum: float = 0.2
    nesterov: bool = True
    batch_size: int = 64
    kmeans_n_init: int = 10

    def __post_init__(self) -> None:
        for name, allowed in (("masking", MASKINGS), ("targets", TARGETS), ("optimizer", OPTIMIZERS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {self.alpha}")
        if self.pretrain_epochs < 1:
            raise ValueError(
                f"pretrain_epochs must be ≥ 1 (the first ranking follows them), got {self.pretrain_epochs}"
            )
        if self.joint_epochs < 0:
            raise ValueError(f"joint_epochs must be ≥ 0, got {self.joint_epochs}")
        if self.update_interval < 1 or self.batch_size < 2:
            raise ValueError(
                f"update_interval must be ≥ 1 and batch_size ≥ 2, got {self.update_interval}, {self.batch_size}"
            )

    @property
    def epochs(self) -> int:
        return self.pretrain_epochs + self.joint_epochs

    def is_update_epoch(self, epoch: int) -> bool:
        """Cluster and rank after this (0-based) epoch: the last pretraining epoch and every C-th joint one."""
        joint = epoch - self.pretrain_epochs + 1  # joint epochs done after this one (0 after pretraining)
        return joint >= 0 and joint % self.update_interval == 0


@dataclass
class TopKDCCAHistory:
    """Per-epoch mean losses, and the kernel distances and Top-K at every cluster update."""

    epochs: list[dict[str, Any]] = field(default_factory=list)  # {"phase", "loss", "rec", "clu"}
    updates: list[dict[str, Any]] = field(default_factory=list)  # {"epoch", "distances", "topk"}
    seconds: float = 0.0  # training wall time, summed across resumes


class TopKDCCA:
    """Top-K DCCA with sklearn's estimator contract; see the module docstring for the schedule.

    `fit(X)`: `X` unlabelled windows `(N, n_channels, window)`. Fitted attributes: `model_`,
    `centers_` `(K, 2, L3)`, `labels_` `(N, K)` per-kernel assignments of X, `kernel_distances_`,
    `clustering_kernels_` (Top-K), `reconstruction_kernels_`, `history_`, `fit_seconds_`.
    """

    def __init__(
        self,
        config: TopKDCCAConfig | None = None,
        *,
        seed: int = 0,
        device: str = "auto",
        checkpoint_name: str | None = None,
        progress: bool = False,
        **overrides: Any,
    ) -> None:
        self.config = TopKDCCAConfig(**{**asdict(config or TopKDCCAConfig()), **overrides})
        self.seed = seed
        self.device = device
        self.checkpoint_name = checkpoint_name
        self.progress = progress

    # -- helpers ------------------------------------------------------------------------------------
    def _windows(self, X: Any, name: str) -> np.ndarray:
        return check_windows(X, name, getattr(self, "model_", None))

    def _maps(self, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        dev = get_device(self.device)
        self.model_.to(dev).eval()
        return batched(self.model_.features, torch.from_numpy(X), batch_size, dev).numpy()

    def _cluster_update(self, X: np.ndarray, epoch: int, history: TopKDCCAHistory) -> None:
        """Per-kernel k-means on the maps of all of X (eval mode), distances, Top-K, reference rows."""
        cfg = self.config
        self.centers_, self.labels_ = per_kernel_kmeans(
            self._maps(X), n_init=cfg.kmeans_n_init, random_state=self.seed, device=self.device
        )
        self.kernel_distances_ = center_distances(self.centers_)
        k = self._k
        self.clustering_kernels_ = topk_kernels(self.kernel_distances_, k)
        self.reconstruction_kernels_ = np.setdiff1d(np.arange(self.model_.n_kernels), self.clustering_kernels_)
        self.reference_rows_ = reference_kernel_rows(self.kernel_distances_, k, rank_bug=cfg.reference_rank_bug)
        history.updates.append(
            {"epoch": epoch + 1, "distances": self.kernel_distances_.copy(), "topk": self.clustering_kernels_.copy()}
        )

    def _make_optimizer(self) -> torch.optim.Optimizer:
        cfg = self.config
        if cfg.optimizer == "sgd":
            return torch.optim.SGD(self.model_.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
        return torch.optim.Adam(self.model_.parameters(), lr=cfg.lr)

    def _step(
        self, xb: torch.Tensor, idx: torch.Tensor, joint: bool, opt: torch.optim.Optimizer, dev: torch.device
    ) -> dict[str, float]:
        cfg, model = self.config, self.model_
        x_hat, maps = model(xb)
        rec = F.mse_loss(x_hat, xb)
        if not joint:
            loss, clu = rec, torch.zeros(())
        else:
            centers = torch.as_tensor(self.centers_, device=dev)
            assignment = torch.as_tensor(self.labels_[idx.numpy()], device=dev) if cfg.targets == "update" else None
            kernels = torch.as_tensor(self.clustering_kernels_, device=dev) if cfg.masking == "paper" else None
            clu = per_kernel_clustering_loss(maps, centers, assignment, kernels)
            loss = (1.0 - cfg.alpha) * rec + cfg.alpha * clu
        if not torch.isfinite(loss):
            raise FloatingPointError(f"Top-K DCCA loss became {float(loss)}; lower the learning rate")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if joint and cfg.masking == "reference":
            clustering_rows, reconstruction_rows = self.reference_rows_
            weight = model.last_conv.weight
            assert weight.grad is not None
            weight.grad[torch.as_tensor(reconstruction_rows, device=dev)] = 0.0
            opt.step()
            opt.zero_grad(set_to_none=True)
            rec2 = F.mse_loss(model(xb)[0], xb)  # a fresh graph at the stepped weights
            rec2.backward()
            weight.grad[torch.as_tensor(clustering_rows, device=dev)] = 0.0
        opt.step()
        return {"loss": float(loss.detach()), "rec": float(rec.detach()), "clu": float(clu.detach())}

    @property
    def _k(self) -> int:
        k = self.config.n_clustering_kernels
        return self.model_.n_kernels // 2 if k is None else int(k)

    # -- fitting ------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> TopKDCCA:
        """Train on the unlabelled windows X (`y` is ignored, as in sklearn's clusterers)."""
        cfg = self.config
        X = self._windows(X, "X")
        set_seed(self.seed)
        self.model_ = MapsConvAutoencoder(X.shape[1], X.shape[2], cfg.n_filters, cfg.kernel_size, cfg.negative_slope)
        if not 1 <= self._k <= self.model_.n_kernels:
            raise ValueError(f"n_clustering_kernels must lie in 1..{self.model_.n_kernels}, got {self._k}")
        dev = get_device(self.device)
        self.model_.to(dev)
        opt = self._make_optimizer()
        history, start = TopKDCCAHistory(), 0
        ckpt = None
        if self.checkpoint_name:
            identity = {"config": asdict(cfg), "seed": self.seed, "data": array_fingerprint(X)}
            ckpt = Checkpointer(f"{self.checkpoint_name}-topk-dcca", identity, code=TRAINING_CODE)
            if (state := ckpt.load()) is not None:
                self.model_.load_state_dict(state["model"])
                opt.load_state_dict(state["optimizer"])
                for key, value in state["attributes"].items():
                    setattr(self, key, value)
                history, start = state["history"], state["epoch"]
        data = torch.from_numpy(X)
        for epoch in range(start, cfg.epochs):
            joint = epoch >= cfg.pretrain_epochs
            with Timer() as timer:
                torch.manual_seed(epoch_seed(self.seed, epoch, _PHASE))
                order = torch.randperm(len(data))
                self.model_.train()
                sums = {"loss": 0.0, "rec": 0.0, "clu": 0.0}
                phase = "joint" if joint else "pretrain"
                for s in progress_bar(
                    range(0, len(data), cfg.batch_size),
                    enabled=self.progress,
                    desc=f"Top-K DCCA {phase} epoch {epoch + 1}/{cfg.epochs}",
                ):
                    idx = order[s : s + cfg.batch_size]
                    if len(idx) < 2:  # batch norm needs two windows
                        continue
                    out = self._step(data[idx].to(dev), idx, joint, opt, dev)
                    for key in sums:
                        sums[key] += out[key] * len(idx)
                history.epochs.append({"phase": phase, **{k: v / len(data) for k, v in sums.items()}})
                if cfg.is_update_epoch(epoch) or epoch == cfg.epochs - 1:
                    self._cluster_update(X, epoch, history)
            history.seconds += timer.seconds
            if ckpt is not None:
                keys = ("centers_", "labels_", "kernel_distances_", "clustering_kernels_", "reconstruction_kernels_")
                ckpt.save(
                    {
                        "model": self.model_.state_dict(),
                        "optimizer": opt.state_dict(),
                        "epoch": epoch + 1,
                        "history": history,
                        "attributes": {k: getattr(self, k) for k in (*keys, "reference_rows_") if hasattr(self, k)},
                    }
                )
        self.history_ = history
        self.fit_seconds_ = history.seconds
        self.model_.eval()
        return self

    # -- using the fitted model ---------------------------------------------------------------------
    def _fitted(self) -> None:
        if not hasattr(self, "centers_"):
            raise ValueError("this TopKDCCA is not fitted yet; call fit(X) first")

    def transform(self, X: Any) -> np.ndarray:
        """The latent of X itself: its bottleneck activation maps `(N, K, L3)`."""
        self._fitted()
        return self._maps(self._windows(X, "X"))

    def predict(self, X: Any) -> np.ndarray:
        """Per kernel, the nearer training centre of every window of X: `(N, K)` (inductive)."""
        maps = torch.from_numpy(self.transform(X))
        return nearest_kernel_centers(maps, torch.as_tensor(self.centers_)).numpy()

    def reconstruction_error(self, X: Any, batch_size: int = 1024) -> np.ndarray:
        """Mean squared reconstruction error of every window of X."""
        self._fitted()
        dev = get_device(self.device)
        self.model_.to(dev).eval()
        data = torch.from_numpy(self._windows(X, "X"))
        return batched(lambda xb: ((self.model_(xb)[0] - xb) ** 2).mean(dim=(1, 2)), data, batch_size, dev).numpy()
