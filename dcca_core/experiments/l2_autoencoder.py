"""Chapter 3 pipelines: l2-normalised autoencoders for clustering and anomaly detection.

Reproduces Aytekin, Ni, Cricri & Aksu (2018), arXiv:1802.00187:
- clustering (Tables I–III): train an autoencoder (dense or conv, bottleneck plain / l2 / batch /
  layer), run k-means on its codes, score accuracy (Hungarian) and NMI;
- anomaly detection (Table IV), the paper's protocol: for each digit d, d is the ANOMALY class; the
  autoencoder is trained on the training images of the nine other digits, k-means with k = 9 on their
  codes, and every test image is scored (anomalies = test images of d);
- the one-class protocol of Deep SVDD (Ruff et al. 2018): d is the NORMAL class, training uses only
  the training images of d, and the test images of the nine other digits are the anomalies.

Each run trains through `dcca_core.training.fit_autoencoder` with a `Checkpointer` whose config holds
everything that changes the weights (model, optimiser settings, seed and a fingerprint of the data).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from ..anomaly.scores import cluster_anomaly_score, reconstruction_errors
from ..checkpoints import Checkpointer, array_fingerprint
from ..cluster import KMeans
from ..metrics import cluster_accuracy, nmi, roc_auc
from ..models.autoencoders import DEC_MNIST_DIMS, DenseAutoencoder
from ..models.conv_autoencoders import ConvAutoencoder
from ..training.loop import PRECISIONS, TrainHistory, encode, fit_autoencoder
from ..utils import set_seed, split_seed

__all__ = [
    "AEConfig",
    "ClusteringResult",
    "AnomalyRun",
    "SCORE_NAMES",
    "PROTOCOLS",
    "PUBLISHED",
    "scale_images",
    "TRAINING_CODE",
    "stratified_subset",
    "build_autoencoder",
    "train_autoencoder",
    "kmeans_on_codes",
    "clustering_experiment",
    "training_length_curve",
    "plot_training_length",
    "training_log",
    "length_metrics",
    "anomaly_split",
    "anomaly_run",
    "anomaly_protocol",
    "auc_table",
    "clustering_table",
    "clustering_metrics",
    "anomaly_metrics",
    "extreme_indices",
    "plot_auc_bars",
    "plot_extremes",
]

ARCHS = ("conv", "dense")
PROTOCOLS = ("paper", "one_class")
SCORE_NAMES = {
    "cluster_l2": "CAE-l2 cluster score (Aytekin eq. 3)",
    "cluster_plain": "CAE cluster score (no l2)",
    "recon_l2": "reconstruction error (CAE-l2)",
    "recon_plain": "reconstruction error (CAE)",
}


# Metric name → published figure. Accuracies are fractions; AUCs are means over the ten digits.
PUBLISHED: dict[str, dict[str, Any]] = {
    "acc_ae": {"value": 0.8182, "source": "Aytekin et al. 2018, Table I (AE + k-means, MNIST)"},
    "acc_ae_l2": {"value": 0.9020, "source": "Aytekin et al. 2018, Table I (AE-l2 + k-means, MNIST)"},
    "acc_cae": {"value": 0.8490, "source": "Aytekin et al. 2018, Table II (CAE + k-means, MNIST)"},
    "acc_cae_l2": {"value": 0.9511, "source": "Aytekin et al. 2018, Table II (CAE-l2 + k-means, MNIST)"},
    "acc_cae_batch": {"value": 0.7067, "source": "Aytekin et al. 2018, Table III (batch norm, MNIST)"},
    "acc_cae_layer": {"value": 0.7083, "source": "Aytekin et al. 2018, Table III (layer norm, MNIST)"},
    "auc_recon": {"value": 0.672, "source": "Aytekin et al. 2018, Table IV (reconstruction error, mean of 10)"},
    "auc_cae_cluster": {"value": 0.789, "source": "Aytekin et al. 2018, Table IV (CAE cluster score, mean of 10)"},
    "auc_cae_l2_cluster": {
        "value": 0.908,
        "source": "Aytekin et al. 2018, Table IV (CAE-l2 cluster score, mean of 10)",
    },
    "oneclass_auc_cae_l2_cluster": {
        "value": 0.948,
        "source": "Ruff et al. 2018, Table 1 (one-class Deep SVDD, MNIST mean of 10; "
        "a different method, shown for the protocol)",
    },
}

# anomaly metric name → key of AnomalyRun.auc it averages
_ANOMALY_METRICS = {
    "auc_cae_l2_cluster": "cluster_l2",
    "auc_cae_cluster": "cluster_plain",
    "auc_recon": "recon_l2",
    "auc_recon_plain": "recon_plain",
}


@dataclass(frozen=True)
class AEConfig:
    """One autoencoder training: architecture, bottleneck normalisation and optimiser settings."""

    arch: str = "conv"  # "conv": DCEC's CAE (Table II); "dense": DEC's d-500-500-2000-10 (Table I)
    bottleneck_norm: str | None = None  # None, "l2", "batch" or "layer" (Table III)
    embedding_dim: int = 10
    epochs: int = 20
    batch_size: int = 256
    lr: float = 1e-3
    seed: int = 0
    precision: str = "fp32"  # "bf16": autocast for the conv/dense layers (l2 and the loss stay float32)

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.epochs < 0 or self.batch_size < 1 or self.lr <= 0 or self.embedding_dim < 1:
            raise ValueError(f"need epochs ≥ 0, batch_size ≥ 1, lr > 0 and embedding_dim ≥ 1, got {self}")

    @property
    def label(self) -> str:
        """Short name as in the paper's tables: AE, AE-l2, CAE, CAE-l2, CAE-batch, ..."""
        base = "CAE" if self.arch == "conv" else "AE"
        return base if self.bottleneck_norm is None else f"{base}-{self.bottleneck_norm}"


@dataclass
class ClusteringResult:
    """What one clustering run produced: metrics, codes, predicted clusters and the trained model."""

    config: AEConfig
    acc: float
    nmi: float
    codes: np.ndarray
    clusters: np.ndarray
    centers: np.ndarray
    history: TrainHistory
    model: nn.Module

    def metrics(self) -> dict[str, float]:
        return {"acc": self.acc, "nmi": self.nmi}


@dataclass
class AnomalyRun:
    """One digit of an anomaly protocol: the test scores of each method and their AUCs."""

    digit: int
    protocol: str
    is_anomaly: np.ndarray  # (n_test,) bool
    scores: dict[str, np.ndarray]  # name → (n_test,) anomaly score, higher = more anomalous
    auc: dict[str, float] = field(default_factory=dict)
    n_train: int = 0
    train_seconds: float = 0.0  # both models' training time (kept in their checkpoints)
    reused: bool = False  # both models came finished from checkpoints


def scale_images(images: Any) -> np.ndarray:
    """uint8 images in 0..255 → float32 in [0, 1], DCEC's only preprocessing for MNIST."""
    arr = np.asarray(images)
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise ValueError(f"images must be (n, ...) with n ≥ 1, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"images must be uint8 in 0..255 (as the loaders return them), got {arr.dtype}")
    return arr.astype(np.float32) / np.float32(255.0)


# The modules whose source trains chapter 3's models: their fingerprint is part of each checkpoint key.
TRAINING_CODE = (
    "dcca_core.training.loop",
    "dcca_core.models.conv_autoencoders",
    "dcca_core.models.autoencoders",
    "dcca_core.models.bottleneck",
)


def build_autoencoder(cfg: AEConfig, input_shape: tuple[int, ...] = (28, 28)) -> nn.Module:
    """A fresh model for `cfg`: `ConvAutoencoder` (28×28 inputs) or `DenseAutoencoder`."""
    if cfg.arch == "conv":
        if tuple(input_shape) not in ((28, 28), (1, 28, 28), (784,)):
            raise ValueError(f"the conv autoencoder takes 28×28 images, got input shape {tuple(input_shape)}")
        return ConvAutoencoder(embedding_dim=cfg.embedding_dim, bottleneck_norm=cfg.bottleneck_norm)
    dims = (int(np.prod(input_shape)), *DEC_MNIST_DIMS[1:-1], cfg.embedding_dim)
    return DenseAutoencoder(dims, bottleneck_norm=cfg.bottleneck_norm)


# Epochs after which every training run keeps its model (so a longer run still has the shorter ones).
SNAPSHOT_EPOCHS = (1, 2, 5, 10, 20, 50, 100, 150, 200)


def checkpoint_for(X: np.ndarray, cfg: AEConfig) -> Checkpointer:
    """The checkpoint of `cfg` trained on X. Its key leaves out the epoch count: a longer run extends
    a shorter one (each epoch reseeds, so the weights equal training that long from scratch)."""
    key = {
        "chapter": "03_l2_autoencoder",
        **{k: v for k, v in asdict(cfg).items() if k != "epochs"},
        "data": array_fingerprint(X),
        "n": int(len(X)),
    }
    return Checkpointer(f"l2ae-{cfg.label}", key, code=TRAINING_CODE)


def train_autoencoder(
    X: np.ndarray,
    cfg: AEConfig,
    *,
    device: str = "auto",
    progress: bool = True,
    checkpoint: bool = True,
    desc: str = "",
    snapshot_epochs: Iterable[int] = SNAPSHOT_EPOCHS,
) -> tuple[nn.Module, TrainHistory]:
    """Seed, build and train an autoencoder on X (float, [0, 1]) for `cfg.epochs`; reuse a checkpoint.

    A checkpoint of the same config that has trained fewer epochs is extended; one that trained more
    returns its snapshot after `cfg.epochs` (kept for every epoch in `snapshot_epochs`).
    """
    X = np.asarray(X, dtype=np.float32)
    set_seed(cfg.seed)
    model = build_autoencoder(cfg, X.shape[1:])
    ckpt = checkpoint_for(X, cfg) if checkpoint else None
    history = fit_autoencoder(
        model,
        X,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        device=device,
        seed=cfg.seed,
        checkpoint=ckpt,
        desc=desc or cfg.label,
        progress=progress,
        precision=cfg.precision,
        channels_last=cfg.arch == "conv" and cfg.precision == "bf16",
        snapshot_epochs=snapshot_epochs,
    )
    return model, history


def kmeans_on_codes(codes: np.ndarray, k: int, *, seed: int = 0, n_init: int = 10, device: str = "auto") -> KMeans:
    """Our KMeans (k-means++, best of `n_init`) fitted on the codes."""
    return KMeans(k, n_init=n_init, random_state=seed, device=device).fit(codes)


def clustering_experiment(
    X: np.ndarray,
    y: np.ndarray,
    cfg: AEConfig,
    *,
    n_clusters: int = 10,
    n_init: int = 10,
    device: str = "auto",
    progress: bool = True,
) -> ClusteringResult:
    """Train the autoencoder on X, k-means on its codes, accuracy (Hungarian) and NMI against y."""
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)} labels")
    model, history = train_autoencoder(X, cfg, device=device, progress=progress)
    codes = encode(model, X, device=device)
    km = kmeans_on_codes(codes, n_clusters, seed=cfg.seed, n_init=n_init, device=device)
    clusters = km.labels_
    return ClusteringResult(
        cfg,
        float(cluster_accuracy(y, clusters)),
        float(nmi(y, clusters)),
        codes,
        clusters,
        km.cluster_centers_,
        history,
        model,
    )


def training_length_curve(
    X: np.ndarray,
    y: np.ndarray,
    cfg: AEConfig,
    eval_epochs: Iterable[int],
    *,
    n_clusters: int = 10,
    n_init: int = 10,
    device: str = "auto",
    progress: bool = True,
) -> pd.DataFrame:
    """Accuracy and NMI of k-means on the codes after each epoch in `eval_epochs`, from one training
    run of `cfg` lasting max(eval_epochs) epochs (`cfg.epochs` is ignored).

    Every epoch reseeds from (seed, epoch), so the point at epoch e is exactly what
    `clustering_experiment` gives for the same config trained for e epochs: the run keeps a snapshot
    after each listed epoch, and extends (never retrains) an earlier, shorter run of the same config.
    Returns one row per evaluated epoch: model, epoch, loss, acc, nmi, seconds (training so far) and
    reused (True when the whole run came from a checkpoint).
    """
    epochs = sorted({int(e) for e in eval_epochs})
    if not epochs or epochs[0] < 1:
        raise ValueError(f"eval_epochs must be one or more epochs ≥ 1, got {list(eval_epochs)!r}")
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)} labels")
    X = np.asarray(X, dtype=np.float32)
    cfg = replace(cfg, epochs=epochs[-1])
    snapshots = sorted(set(SNAPSHOT_EPOCHS) | set(epochs))
    _, longest = train_autoencoder(
        X, cfg, device=device, progress=progress, desc=f"{cfg.label} (length study)", snapshot_epochs=snapshots
    )
    rows = []
    for e in epochs:
        model, history = train_autoencoder(
            X, replace(cfg, epochs=e), device=device, progress=False, snapshot_epochs=snapshots
        )  # the snapshot after epoch e
        clusters = kmeans_on_codes(
            encode(model, X, device=device), n_clusters, seed=cfg.seed, n_init=n_init, device=device
        ).labels_
        rows.append(
            {
                "model": cfg.label,
                "epoch": e,
                "loss": history.epoch_loss[e - 1],
                "acc": float(cluster_accuracy(y, clusters)),
                "nmi": float(nmi(y, clusters)),
                "seconds": history.seconds,
                "reused": _reused(longest, cfg.epochs),
            }
        )
    return pd.DataFrame(rows)


def plot_training_length(curve: pd.DataFrame, *, published: dict[str, float] | None = None, title: str = "") -> Any:
    """k-means accuracy against training epochs, one line per model; dashed: published accuracy."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for i, (label, part) in enumerate(curve.groupby("model", sort=False)):
        color = f"C{i}"
        ax.plot(part["epoch"], part["acc"], marker="o", color=color, label=label)
        if published and label in published:
            ax.axhline(published[label], color=color, ls="--", lw=1, label=f"{label}, published")
    ax.set_xlabel("training epochs")
    ax.set_ylabel("k-means accuracy")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def anomaly_split(
    y_train: np.ndarray,
    y_test: np.ndarray,
    digit: int,
    protocol: str = "paper",
    *,
    max_train: int | None = None,
    contamination: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the training images to use, boolean anomaly mask over the test set).

    "paper" (Aytekin et al.): train on every class but `digit`; the test images of `digit` are the
    anomalies. `contamination` ∈ [0, 1] keeps that fraction of the anomaly class's training images in
    the training set (0 = clean training set; 1 = all training images, fully unsupervised).
    "one_class" (Ruff et al. 2018): train on `digit` only; all other test images are anomalies.
    `max_train` keeps a seeded random subset of the training indices (sorted).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if not 0.0 <= float(contamination) <= 1.0:
        raise ValueError(f"contamination must be in [0, 1], got {contamination!r}")
    if protocol == "one_class" and contamination:
        raise ValueError("contamination applies to the 'paper' protocol only")
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if digit not in set(np.unique(y_train).tolist()):
        raise ValueError(f"digit {digit!r} does not occur in y_train (classes {np.unique(y_train).tolist()})")
    rng = np.random.default_rng(split_seed(seed, digit))
    if protocol == "paper":
        idx = np.flatnonzero(y_train != digit)
        anomalous = np.flatnonzero(y_train == digit)
        n_kept = int(round(float(contamination) * len(anomalous)))
        if n_kept:
            idx = np.sort(np.concatenate([idx, rng.choice(anomalous, size=n_kept, replace=False)]))
    else:
        idx = np.flatnonzero(y_train == digit)
    if max_train is not None:
        if max_train < 1:
            raise ValueError(f"max_train must be ≥ 1 or None, got {max_train}")
        if max_train < len(idx):
            idx = np.sort(rng.choice(idx, size=max_train, replace=False))
    is_anomaly = y_test == digit if protocol == "paper" else y_test != digit
    return idx, is_anomaly


def stratified_subset(y: np.ndarray, n: int | None, seed: int = 0) -> np.ndarray:
    """Sorted indices of a seeded random subset of size n with every class in proportion; all if None."""
    y = np.asarray(y)
    if n is None or n >= len(y):
        return np.arange(len(y))
    if n < 1:
        raise ValueError(f"subset size must be ≥ 1 or None, got {n}")
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        picks.append(rng.choice(members, size=max(1, int(round(n * len(members) / len(y)))), replace=False))
    return np.sort(np.concatenate(picks))


def anomaly_run(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    digit: int,
    cfg: AEConfig,
    *,
    protocol: str = "paper",
    k: int | None = None,
    max_train: int | None = None,
    contamination: float = 0.0,
    n_init: int = 10,
    device: str = "auto",
    progress: bool = True,
) -> AnomalyRun:
    """One digit: train a plain and an l2 autoencoder on the protocol's training images, k-means with
    k clusters on each model's training codes (default k = 9 for "paper", 1 for "one_class"), and
    score every test image four ways (see `SCORE_NAMES`; higher = more anomalous)."""
    idx, is_anomaly = anomaly_split(
        y_train, y_test, digit, protocol, max_train=max_train, contamination=contamination, seed=cfg.seed
    )
    if not is_anomaly.any() or is_anomaly.all():
        raise ValueError(f"digit {digit}: the test set needs both normal and anomalous images")
    k = (9 if protocol == "paper" else 1) if k is None else int(k)
    X = x_train[idx]
    scores: dict[str, np.ndarray] = {}
    histories = []
    for norm, tag in ((None, "plain"), ("l2", "l2")):
        run_cfg = replace(cfg, bottleneck_norm=norm)
        model, history = train_autoencoder(
            X, run_cfg, device=device, progress=progress, desc=f"{run_cfg.label} {protocol} digit {digit}"
        )
        histories.append(history)
        km = kmeans_on_codes(encode(model, X, device=device), k, seed=cfg.seed, n_init=n_init, device=device)
        errors, test_codes = reconstruction_errors(model, x_test, device=device, return_codes=True)
        # eq. 3 on the codes the model produces: E_c(I) for CAE-l2, the raw E(I) for the plain CAE
        scores[f"cluster_{tag}"] = cluster_anomaly_score(test_codes, km.cluster_centers_, normalize_codes=norm == "l2")
        scores[f"recon_{tag}"] = errors
    auc = {name: float(roc_auc(is_anomaly.astype(int), s)) for name, s in scores.items()}
    return AnomalyRun(
        int(digit),
        protocol,
        is_anomaly,
        scores,
        auc,
        n_train=int(len(idx)),
        train_seconds=sum(h.seconds for h in histories),
        reused=all(_reused(h, cfg.epochs) for h in histories),
    )


def _reused(history: TrainHistory, epochs: int) -> bool:
    return history.resumed_from_epoch >= epochs


def training_log(**groups: Iterable[ClusteringResult | AnomalyRun]) -> dict[str, Any]:
    """What each group of models cost to train, for the results file: per model (clustering: by
    label; anomaly runs: by digit) the training seconds kept in its checkpoint and whether this run
    reused it, plus `reused_any`: when True, the run's wall time leaves out that training. A reused
    checkpoint written before training times were stored has seconds None (unknown), not 0."""
    log: dict[str, Any] = {}
    for group, items in groups.items():
        entries = {}
        for item in items:
            if isinstance(item, AnomalyRun):
                name, seconds, reused = str(item.digit), item.train_seconds, item.reused
            else:
                name, seconds = item.config.label, item.history.seconds
                reused = _reused(item.history, item.config.epochs)
            entries[name] = {"seconds": None if reused and not seconds else seconds, "reused": reused}
        log[group] = entries
    log["reused_any"] = any(e["reused"] for g in log.values() for e in g.values())
    return log


def length_metrics(curve: pd.DataFrame) -> dict[str, float]:
    """Accuracy and NMI of each model at the curve's last epoch: {"longest_acc_cae_l2": ...}."""
    out: dict[str, float] = {}
    for label, part in curve.groupby("model", sort=False):
        last = part.loc[part["epoch"].idxmax()]
        slug = _slug(label)
        out[f"longest_acc_{slug}"], out[f"longest_nmi_{slug}"] = float(last["acc"]), float(last["nmi"])
    return out


def anomaly_protocol(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    digits: Iterable[int],
    cfg: AEConfig,
    **kwargs: Any,
) -> list[AnomalyRun]:
    """`anomaly_run` for each digit in `digits` (same settings for all)."""
    return [anomaly_run(x_train, y_train, x_test, y_test, int(d), cfg, **kwargs) for d in digits]


def auc_table(runs: list[AnomalyRun], names: dict[str, str] | None = None) -> pd.DataFrame:
    """Per-digit AUCs (rows: digits, then "mean"; columns: scores), as in the paper's Table IV."""
    if not runs:
        raise ValueError("no anomaly runs to tabulate")
    table = pd.DataFrame({r.digit: r.auc for r in runs}).T.sort_index()
    table.index.name = "digit"
    table.loc["mean"] = table.mean(axis=0)
    return table.rename(columns=names) if names else table


def _slug(label: str) -> str:
    """Model label as a metric-name part: "CAE-l2" → "cae_l2"."""
    return label.lower().replace("-", "_")


def clustering_table(results: list[ClusteringResult]) -> pd.DataFrame:
    """One row per model (AE, AE-l2, CAE, ...): accuracy, NMI, final training loss, epochs."""
    rows = {
        r.config.label: {
            "acc": r.acc,
            "nmi": r.nmi,
            "final_loss": r.history.epoch_loss[-1] if r.history.epoch_loss else float("nan"),
            "epochs": r.config.epochs,
        }
        for r in results
    }
    table = pd.DataFrame(rows).T
    table.index.name = "model"
    return table


def clustering_metrics(results: list[ClusteringResult], prefix: str = "") -> dict[str, float]:
    """{prefix}acc_<model>, {prefix}nmi_<model> for each result, e.g. acc_cae_l2."""
    out: dict[str, float] = {}
    for r in results:
        out[f"{prefix}acc_{_slug(r.config.label)}"] = r.acc
        out[f"{prefix}nmi_{_slug(r.config.label)}"] = r.nmi
    return out


def anomaly_metrics(runs: list[AnomalyRun], prefix: str = "") -> dict[str, float]:
    """Mean AUC over the digits run, per score: {prefix}auc_cae_l2_cluster, auc_cae_cluster, auc_recon, ..."""
    if not runs:
        return {}
    return {f"{prefix}{name}": float(np.mean([r.auc[key] for r in runs])) for name, key in _ANOMALY_METRICS.items()}


def extreme_indices(score: np.ndarray, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the n highest-scoring (most anomalous) and n lowest-scoring (most normal) samples."""
    score = np.asarray(score)
    if score.ndim != 1 or len(score) < 2 * n or n < 1:
        raise ValueError(f"need a 1-D score with at least 2n = {2 * n} entries, got shape {score.shape}")
    order = np.argsort(score, kind="stable")
    return order[::-1][:n], order[:n]


def plot_auc_bars(table: pd.DataFrame, *, published: dict[str, float] | None = None, title: str = "", ax: Any = None):
    """Grouped bars of per-digit AUC (one colour per score); dashed lines at published means."""
    import matplotlib.pyplot as plt

    per_digit = table.drop(index="mean", errors="ignore")
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 3.6))
    else:
        fig = ax.figure
    width = 0.8 / max(1, per_digit.shape[1])
    x = np.arange(len(per_digit))
    for i, col in enumerate(per_digit.columns):
        bars = ax.bar(x + (i - (per_digit.shape[1] - 1) / 2) * width, per_digit[col], width, label=col)
        if published and col in published:
            ax.axhline(published[col], ls="--", lw=1, color=bars.patches[0].get_facecolor())
    ax.set_xticks(x, [str(d) for d in per_digit.index])
    ax.set_xlabel("digit")
    ax.set_ylabel("ROC AUC")
    ax.set_ylim(0, 1.02)
    ax.axhline(0.5, color="grey", lw=0.8)
    ax.legend(fontsize=8, ncol=2, loc="lower right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_extremes(images: np.ndarray, score: np.ndarray, labels: np.ndarray | None = None, n: int = 8, title: str = ""):
    """Two rows of images: the n most anomalous (top) and the n most normal (bottom) by `score`."""
    import matplotlib.pyplot as plt

    hi, lo = extreme_indices(score, n)
    fig, axes = plt.subplots(2, n, figsize=(1.2 * n, 2.9))
    for row, (idx, name) in enumerate(((hi, "most anomalous"), (lo, "most normal"))):
        for ax, i in zip(axes[row], idx, strict=False):
            ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray_r")
            ax.set_xticks([])
            ax.set_yticks([])
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=8)
        axes[row, 0].set_ylabel(name, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
