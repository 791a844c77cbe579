"""Chapter 3 pipelines: l2-normalised autoencoders for clustering and anomaly detection.

Reproduces Aytekin, Ni, Cricri & Aksu (2018), arXiv:1802.00187:
- clustering (Tables I–III): train an autoencoder (dense or conv, bottleneck plain / l2 / batch /
  layer), run k-means on its codes, score accuracy (Hungarian) and NMI;
- anomaly detection (Table IV), the paper's reading ("train on full dataset, anomalies + normal
  samples"): digit d is the ANOMALY class, the Table II models trained on all 70,000 images (d among
  them) serve every d, k-means with k = 9 on their codes, and all 70,000 images are scored
  (`paper_reading`);
- the clean reading: d is removed from the training images, the models are trained on the other nine
  digits and the test split is scored (`anomaly_run` with protocol "clean");
- the one-class protocol of Deep SVDD (Ruff et al. 2018): d is the NORMAL class, training uses only
  the training images of d, and the test images of the nine other digits are the anomalies.

Results over seeds are means with the sample standard deviation (`utils.mean_sd`, ddof = 1).

Each run trains through `dcca_core.training.fit_autoencoder` with a `Checkpointer` whose config holds
everything that changes the weights (model, optimiser settings, seed and a fingerprint of the data).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from ..anomaly.scores import cluster_anomaly_score, reconstruction_errors
from ..checkpoints import Checkpointer, array_fingerprint
from ..claims import metric_verdict
from ..cluster import KMeans
from ..metrics import cluster_accuracy, nmi, roc_auc
from ..models.autoencoders import DEC_MNIST_DIMS, DenseAutoencoder
from ..models.conv_autoencoders import ConvAutoencoder
from ..paths import checkout_root
from ..results import ChapterRun, study_runs
from ..training.loop import PRECISIONS, TrainHistory, encode, fit_autoencoder
from ..utils import mean_sd, metrics_over_seeds, set_seed, split_seed

__all__ = [
    "AEConfig",
    "ClusteringResult",
    "AnomalyRun",
    "SCORE_NAMES",
    "PROTOCOLS",
    "PUBLISHED",
    "CLAIM_NOTES",
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
    "cluster_scores",
    "paper_reading",
    "reading_scores",
    "reading_aucs",
    "over_seeds",
    "l2_margin",
    "accuracy_margin",
    "clustering_summary",
    "findings",
    "auc_table",
    "clustering_table",
    "clustering_metrics",
    "anomaly_metrics",
    "record_results",
    "extreme_indices",
    "plot_auc_bars",
    "plot_extremes",
    "BUDGET_STUDY",
    "budget_study",
    "budget_record",
    "budget_curve",
]

ARCHS = ("conv", "dense")
PROTOCOLS = ("clean", "one_class")  # protocols that train their own models (the paper reading reuses Table II's)
SCORE_NAMES = {
    "cluster_l2": "CAE-l2 cluster score (Aytekin eq. 3)",
    "cluster_plain": "CAE cluster score (eq. 3 on its codes normalised after training: a cosine)",
    "cluster_plain_raw": "CAE cluster score on raw codes (a projection; variant)",
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

# Why each claim may differ from the paper: what our protocol does where the paper's is not known.
CLAIM_NOTES = {
    "acc_ae": "DEC's 784-500-500-2000-10 trained end to end with Adam (no layer-wise pretraining)",
    "acc_ae_l2": "as AE, with the l2 layer on the code during training",
    "acc_cae": "DCEC's CAE and recipe (Adam, batch 256, Glorot init); the paper may quote DCEC's own figure",
    "acc_cae_l2": "DCEC's CAE and recipe with the l2 layer; k-means with 20 restarts",
    "acc_cae_batch": "BatchNorm1d on the 10-d code; where the paper put its batch norm is not known",
    "acc_cae_layer": "LayerNorm on a 10-d code centres and rescales it, close to the l2 constraint itself; "
    "the paper's placement is not known",
    "auc_recon": "reconstruction error of the CAE-l2, paper's reading (the anomaly digit in training)",
    "auc_cae_cluster": "eq. 3 on the plain CAE's codes normalised after training (a cosine); "
    "the raw projection is auc_cae_cluster_raw",
    "auc_cae_l2_cluster": "paper's reading: the Table II models, k = 9, every image scored",
    "oneclass_auc_cae_l2_cluster": "Deep SVDD's figure: a different method, shown for the protocol",
}

# anomaly metric name → key of AnomalyRun.auc it averages
_ANOMALY_METRICS = {
    "auc_cae_l2_cluster": "cluster_l2",
    "auc_cae_cluster": "cluster_plain",
    "auc_cae_cluster_raw": "cluster_plain_raw",
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
    """k-means accuracy against training epochs, one line per model; dashed: published accuracy; a
    shaded band of ± one sd where the curve has an `acc_sd` column (a mean over seeds)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for i, (label, part) in enumerate(curve.groupby("model", sort=False)):
        color = f"C{i}"
        ax.plot(part["epoch"], part["acc"], marker="o", color=color, label=label)
        if "acc_sd" in part and np.isfinite(part["acc_sd"]).any():
            ax.fill_between(
                part["epoch"], part["acc"] - part["acc_sd"], part["acc"] + part["acc_sd"], color=color, alpha=0.2, lw=0
            )
        if published and label in published:
            ax.axhline(published[label], color=color, ls="--", lw=1, label=f"{label}, published")
    epochs = sorted({int(e) for e in curve["epoch"]})
    labels = [str(e) for e in epochs]
    if epochs and epochs[-1] / max(epochs[0], 1) >= 20:
        ax.set_xscale("log")  # 1 … 200 epochs: equal room for each doubling
        shown = epochs[-1]  # on a log axis 150 and 200 would overlap: leave out labels too close to the next shown
        for i in range(len(epochs) - 2, -1, -1):
            if shown / max(epochs[i], 1) < 1.5:
                labels[i] = ""
            else:
                shown = epochs[i]
    ax.set_xticks(epochs, labels)  # the evaluated epochs, as whole numbers
    ax.minorticks_off()
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
    protocol: str = "clean",
    *,
    max_train: int | None = None,
    contamination: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the training images to use, boolean anomaly mask over the test set).

    "clean" (Aytekin et al.'s task with the anomaly digit kept out of training): train on every class
    but `digit`; the test images of `digit` are the anomalies. `contamination` ∈ [0, 1] keeps that fraction of the anomaly class's training images in
    the training set (0 = clean training set; 1 = all training images, fully unsupervised).
    "one_class" (Ruff et al. 2018): train on `digit` only; all other test images are anomalies.
    `max_train` keeps a seeded random subset of the training indices (sorted).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if not 0.0 <= float(contamination) <= 1.0:
        raise ValueError(f"contamination must be in [0, 1], got {contamination!r}")
    if protocol == "one_class" and contamination:
        raise ValueError("contamination applies to the 'clean' protocol only")
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if digit not in set(np.unique(y_train).tolist()):
        raise ValueError(f"digit {digit!r} does not occur in y_train (classes {np.unique(y_train).tolist()})")
    rng = np.random.default_rng(split_seed(seed, digit))
    if protocol == "clean":
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
    is_anomaly = y_test == digit if protocol == "clean" else y_test != digit
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
    protocol: str = "clean",
    k: int | None = None,
    max_train: int | None = None,
    contamination: float = 0.0,
    n_init: int = 10,
    device: str = "auto",
    progress: bool = True,
) -> AnomalyRun:
    """One digit: train a plain and an l2 autoencoder on the protocol's training images, k-means with
    k clusters on each model's training codes (default k = 9 for "clean", 1 for "one_class"), and
    score every test image five ways (see `SCORE_NAMES`; higher = more anomalous)."""
    idx, is_anomaly = anomaly_split(
        y_train, y_test, digit, protocol, max_train=max_train, contamination=contamination, seed=cfg.seed
    )
    if not is_anomaly.any() or is_anomaly.all():
        raise ValueError(f"digit {digit}: the test set needs both normal and anomalous images")
    k = (9 if protocol == "clean" else 1) if k is None else int(k)
    X = x_train[idx]
    scores: dict[str, np.ndarray] = {}
    histories = []
    for norm, tag in ((None, "plain"), ("l2", "l2")):
        run_cfg = replace(cfg, bottleneck_norm=norm)
        model, history = train_autoencoder(
            X, run_cfg, device=device, progress=progress, desc=f"{run_cfg.label} {protocol} digit {digit}"
        )
        histories.append(history)
        errors, test_codes = reconstruction_errors(model, x_test, device=device, return_codes=True)
        scores.update(
            cluster_scores(
                encode(model, X, device=device),
                test_codes,
                k,
                l2_model=norm == "l2",
                seed=cfg.seed,
                n_init=n_init,
                device=device,
            )
        )
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


def cluster_scores(
    fit_codes: np.ndarray,
    score_codes: np.ndarray,
    k: int,
    *,
    l2_model: bool,
    seed: int = 0,
    n_init: int = 10,
    device: str = "auto",
) -> dict[str, np.ndarray]:
    """Eq. 3 anomaly scores of `score_codes` after k-means (k clusters) on `fit_codes`.

    An l2 model's codes are E_c already: "cluster_l2". A plain model gets two: "cluster_plain", its
    codes normalised after training (k-means and eq. 3 on the unit sphere, i.e. a cosine, the faithful
    reading of eq. 3), and "cluster_plain_raw", eq. 3's projection z·C_j/‖C_j‖ on the raw codes, which
    grows with ‖z‖ (how much ink an image has) and is kept as a labelled variant only.
    """

    def unit(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float32)
        return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)

    def score(fit: np.ndarray, target: np.ndarray, normalize: bool) -> np.ndarray:
        km = kmeans_on_codes(fit, k, seed=seed, n_init=n_init, device=device)
        return cluster_anomaly_score(target, km.cluster_centers_, normalize_codes=normalize)

    if l2_model:
        return {"cluster_l2": score(fit_codes, score_codes, True)}
    return {
        "cluster_plain": score(unit(fit_codes), score_codes, True),  # eq. 3 normalises the scored codes itself
        "cluster_plain_raw": score(np.asarray(fit_codes, dtype=np.float32), score_codes, False),
    }


def reading_scores(
    result: ClusteringResult, X: np.ndarray, *, k: int = 9, n_init: int = 10, device: str = "auto"
) -> dict[str, np.ndarray]:
    """One Table II model's scores of every image of X in the paper's reading: eq. 3 after k-means
    (k clusters) on its own codes (`cluster_scores`) and its reconstruction error, named by its
    bottleneck ("cluster_l2", "recon_l2" for the l2 model; "cluster_plain", "cluster_plain_raw",
    "recon_plain" for the plain one)."""
    tag = "l2" if result.config.bottleneck_norm == "l2" else "plain"
    scores = cluster_scores(
        result.codes, result.codes, k, l2_model=tag == "l2", seed=result.config.seed, n_init=n_init, device=device
    )
    scores[f"recon_{tag}"] = np.asarray(reconstruction_errors(result.model, X, device=device))
    return scores


def reading_aucs(scores: Mapping[str, np.ndarray], y: np.ndarray, digits: Iterable[int]) -> dict[str, list[float]]:
    """Score name → AUC for each digit in `digits` as the anomaly class (the images of d are the
    anomalies), in the order of `digits`: the paper's reading once the scores are fixed."""
    y = np.asarray(y)
    out: dict[str, list[float]] = {name: [] for name in scores}
    for d in digits:
        is_anomaly = (y == int(d)).astype(int)
        if not 0 < is_anomaly.sum() < len(y):
            raise ValueError(f"digit {d}: the images need both normal and anomalous ones")
        for name, s in scores.items():
            out[name].append(float(roc_auc(is_anomaly, s)))
    return out


def paper_reading(
    plain: ClusteringResult,
    l2: ClusteringResult,
    X: np.ndarray,
    y: np.ndarray,
    digits: Iterable[int],
    *,
    k: int = 9,
    n_init: int = 10,
    device: str = "auto",
) -> list[AnomalyRun]:
    """Table IV as the paper describes it ("train on full dataset, anomalies + normal samples"): the
    plain and l2 models of Table II, trained on X (all digits), k-means with k clusters on their codes
    of X, every image of X scored; for each digit d, the images of d are the anomalies.

    Nothing is trained: the k-means and the scores do not depend on d, so one fit per score serves
    every digit, and only the anomaly mask (and so the AUC) changes.
    """
    y = np.asarray(y)
    for result, norm in ((plain, None), (l2, "l2")):
        if result.config.bottleneck_norm != norm:
            raise ValueError(f"expected a model with bottleneck {norm!r}, got {result.config.label}")
        if not len(result.codes) == len(X) == len(y):
            raise ValueError(
                f"{result.config.label} has codes of {len(result.codes)} images, but X has {len(X)} and y {len(y)}: "
                "the paper reading scores the images the Table II models were trained on"
            )
    scores: dict[str, np.ndarray] = {}
    for result in (plain, l2):
        scores.update(reading_scores(result, X, k=k, n_init=n_init, device=device))
    digits = [int(d) for d in digits]
    aucs = reading_aucs(scores, y, digits)
    return [
        AnomalyRun(d, "paper", y == d, scores, {name: aucs[name][i] for name in scores}, n_train=int(len(X)))
        for i, d in enumerate(digits)
    ]


over_seeds = metrics_over_seeds  # mean and sd (ddof = 1) over seeds of every metric the seeds share


def l2_margin(
    results_by_seed: Iterable[Iterable[ClusteringResult]], plain: str = "CAE", level: float = 0.95
) -> dict[str, float]:
    """The l2 model's accuracy minus the plain model's, paired by seed (`accuracy_margin`)."""
    return accuracy_margin([{r.config.label: r.acc for r in results} for results in results_by_seed], plain, level)


def accuracy_margin(
    acc_by_seed: Iterable[Mapping[str, float]], plain: str = "CAE", level: float = 0.95
) -> dict[str, float]:
    """`<plain>-l2`'s accuracy minus `<plain>`'s over the seeds that have both (each a label → accuracy
    map), as `l2_margin_<plain>` (mean); with ≥ 2 seeds also its sd (ddof = 1) and a Student-t
    confidence interval at `level`."""
    from scipy import stats

    diffs = [by[f"{plain}-l2"] - by[plain] for by in acc_by_seed if plain in by and f"{plain}-l2" in by]
    if not diffs:
        return {}
    summary = mean_sd(diffs)
    slug = f"l2_margin_{_slug(plain)}"
    out = {slug: summary.mean}
    if summary.n > 1:
        half = float(stats.t.ppf(0.5 + level / 2, summary.n - 1) * summary.sd / np.sqrt(summary.n))
        out.update(
            {f"{slug}_std": summary.sd, f"{slug}_ci_low": summary.mean - half, f"{slug}_ci_high": summary.mean + half}
        )
    return out


def clustering_summary(results_by_seed: Iterable[Iterable[ClusteringResult]]) -> pd.DataFrame:
    """One row per model over the seeds run: accuracy and NMI (mean, sd with ddof = 1), final loss
    (mean), epochs and the number of seeds."""
    groups: dict[str, list[ClusteringResult]] = {}
    for results in results_by_seed:
        for r in results:
            groups.setdefault(r.config.label, []).append(r)
    rows = {}
    for label, rs in groups.items():
        acc, nmi_ = mean_sd([r.acc for r in rs]), mean_sd([r.nmi for r in rs])
        rows[label] = {
            "acc": acc.mean,
            "acc_sd": acc.sd,
            "nmi": nmi_.mean,
            "nmi_sd": nmi_.sd,
            "final_loss": float(np.mean([r.history.epoch_loss[-1] if r.history.epoch_loss else np.nan for r in rs])),
            "epochs": rs[0].config.epochs,
            "seeds": len(rs),
        }
    table = pd.DataFrame(rows).T
    table.index.name = "model"
    table.columns.name = "sd: over seeds, ddof = 1"
    return table


def _pct(metrics: dict[str, float], name: str) -> str:
    """ "95.1 %" or "95.1 ± 0.4 %" for a fraction metric and its `_std`."""
    text = f"{100 * metrics[name]:.1f}"
    sd = metrics.get(f"{name}_std")
    if sd is not None and np.isfinite(sd):
        text += f" ± {100 * sd:.1f}"
    return text + " %"


def findings(metrics: dict[str, float], n_seeds: int, *, verdicts: bool = True) -> str:
    """The chapter's "What we found" paragraph, written from its metrics (Markdown): each headline
    number beside the paper's with the book's verdict (none for a smoke run: `verdicts=False`), the
    paired l2 margin and its interval."""
    seeds = f"{n_seeds} seed{'s' if n_seeds != 1 else ''}"
    parts = []

    def claim(name: str, what: str) -> str:
        value = metrics[name]
        pub = PUBLISHED[name]["value"]
        sd = metrics.get(f"{name}_std", 0.0) if n_seeds > 1 else 0.0
        verdict = metric_verdict(name, value, sd, pub) if verdicts else "smoke run, no verdict"
        pub_text = f"{100 * pub:.1f} %" if name.startswith("acc") else f"{pub:.3f}"
        ours = _pct(metrics, name) if name.startswith("acc") else f"{value:.3f}"
        if not name.startswith("acc") and f"{name}_std" in metrics:
            ours += f" ± {metrics[f'{name}_std']:.3f}"
        return f"{what} {ours} (paper {pub_text}: *{verdict}*)"

    acc = [
        (n, w)
        for n, w in (
            ("acc_cae_l2", "CAE-$l_2$"),
            ("acc_cae", "the plain CAE"),
            ("acc_ae_l2", "AE-$l_2$"),
            ("acc_ae", "the plain dense AE"),
        )
        if n in metrics
    ]
    if acc:
        parts.append(f"Over {seeds}, k-means on the codes reaches: " + "; ".join(claim(n, w) for n, w in acc) + ".")
    for plain, name in (("cae", "CAE"), ("ae", "dense AE")):
        slug = f"l2_margin_{plain}"
        if slug in metrics:
            text = f"The $l_2$ bottleneck adds {100 * metrics[slug]:+.1f} points to the {name}'s accuracy"
            low, high = metrics.get(f"{slug}_ci_low", np.nan), metrics.get(f"{slug}_ci_high", np.nan)
            if np.isfinite(low) and np.isfinite(high):
                text += f" (95 % interval over paired seeds {100 * low:+.1f} to {100 * high:+.1f})"
            parts.append(
                text + "; the paper's margin is "
                f"{100 * (PUBLISHED[f'acc_{plain}_l2']['value'] - PUBLISHED[f'acc_{plain}']['value']):+.1f}."
            )
    auc = [
        (n, w)
        for n, w in (
            ("auc_cae_l2_cluster", "the CAE-$l_2$ cluster score"),
            ("auc_cae_cluster", "the plain CAE's (cosine)"),
            ("auc_recon", "reconstruction error"),
        )
        if n in metrics
    ]
    if auc:
        parts.append(
            "As anomaly detectors in the paper's reading (mean AUC over the digits): "
            + "; ".join(claim(n, w) for n, w in auc)
            + "."
        )
    return " ".join(parts)


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
    """Mean AUC over the digits run, per score every run has: {prefix}auc_cae_l2_cluster, auc_cae_cluster,
    auc_recon, ..."""
    if not runs:
        return {}
    return {
        f"{prefix}{name}": float(np.mean([r.auc[key] for r in runs]))
        for name, key in _ANOMALY_METRICS.items()
        if all(key in r.auc for r in runs)
    }


def record_results(
    run: ChapterRun,
    *,
    clustering_by_seed: Mapping[int, list[ClusteringResult]],
    paper_by_seed: Mapping[int, list[AnomalyRun]],
    one_class_by_seed: Mapping[int, list[AnomalyRun]],
    ablation_run: Sequence[int] = (),
    clean_runs: Sequence[AnomalyRun] = (),
    fashion_results: Sequence[ClusteringResult] = (),
    length_curve: pd.DataFrame | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write chapter 3's results record; returns its path and the metrics.

    Tables I-IV and the one-class AUCs are means over the seeds of `clustering_by_seed` (sd, ddof = 1,
    as `<metric>_std`), with the paired l2 margins; the BN/LN ablation counts over `ablation_run`
    only, the clean reading, Fashion-MNIST and the length curve over the first seed (`run.seed`),
    and `metric_seeds` says so. `run.params` must hold `anomaly_k` and `one_class_k` (the protocol
    notes quote them).
    """
    seeds = list(clustering_by_seed)
    if run.seed not in clustering_by_seed:
        raise ValueError(f"the run's seed {run.seed} has no clustering results (seeds: {seeds})")
    per_seed = [
        {
            **clustering_metrics(clustering_by_seed[s]),
            **anomaly_metrics(paper_by_seed[s]),
            **anomaly_metrics(one_class_by_seed[s], prefix="oneclass_"),
        }
        for s in seeds
    ]
    metrics: dict[str, Any] = over_seeds(per_seed)  # the metrics every seed has
    for plain in ("CAE", "AE"):
        metrics.update(l2_margin(clustering_by_seed.values(), plain=plain))
    ablated = [
        clustering_metrics([r for r in clustering_by_seed[s] if r.config.bottleneck_norm in ("batch", "layer")])
        for s in ablation_run
    ]
    ablation_metrics = over_seeds(ablated) if ablated else {}
    first_seed_metrics = {
        **anomaly_metrics(list(clean_runs), prefix="clean_"),
        **clustering_metrics(list(fashion_results), prefix="fashion_"),
        **(length_metrics(length_curve) if length_curve is not None else {}),
    }
    metrics.update({**ablation_metrics, **first_seed_metrics})
    metric_seeds = {
        **{name: list(ablation_run) for name in ablation_metrics},
        **{name: [run.seed] for name in first_seed_metrics},
    }
    first_one_class = one_class_by_seed[run.seed]
    extra = {
        "anomaly_protocol": "paper's reading: digit d is the anomaly; the Table II models (trained on all clustering "
        f"images, d among them); k={run.params['anomaly_k']} on their codes; the same images scored",
        "clean_protocol": "digit d removed from the training split; models trained on the other nine for "
        f"clean_epochs; k={run.params['anomaly_k']}; the test split scored",
        "one_class_protocol": f"Deep SVDD: digit d is the normal class; train on it only; k={run.params['one_class_k']}",
        "n_images": {
            "clustering": int(len(clustering_by_seed[run.seed][0].clusters)),
            "test_scored": int(len(first_one_class[0].is_anomaly)) if first_one_class else 0,
        },
        "anomaly_per_digit": auc_table(paper_by_seed[run.seed]).to_dict(orient="index"),
        "anomaly_per_digit_by_seed": {str(s): auc_table(r).to_dict(orient="index") for s, r in paper_by_seed.items()},
        "clean_per_digit": auc_table(list(clean_runs)).to_dict(orient="index") if clean_runs else {},
        "one_class_per_digit": auc_table(first_one_class).to_dict(orient="index"),
        "clustering_by_seed": {str(s): clustering_metrics(r) for s, r in clustering_by_seed.items()},
        "training": training_log(
            **{f"clustering_seed{s}": r for s, r in clustering_by_seed.items()},
            clean=clean_runs,
            **{f"one_class_seed{s}": r for s, r in one_class_by_seed.items()},
            fashion=fashion_results,
        ),
        "length_curve": length_curve.to_dict(orient="records") if length_curve is not None else [],
    }
    published = {k: v for k, v in PUBLISHED.items() if k in metrics}
    path = run.write(metrics, published=published, extra=extra, metric_seeds=metric_seeds)
    return path, metrics


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


# ----------------------------------------------------------------------------------------------
# The paper-budget training study (studies/ch3_paper_budget.py), read back for the chapter
# ----------------------------------------------------------------------------------------------

BUDGET_STUDY = "ch3_paper_budget"
"""`studies/ch3_paper_budget.py`: every Table I–III model at the paper's budget, one model and seed per run."""

PAPER_BUDGET = {"conv": (200, "bf16"), "dense": (100, "fp32")}
"""Epochs and precision of the full profile's models (the paper's epochs; bf16 verified for the CAE only)."""

_BUDGET_METRICS = {
    "AE": "acc_ae",
    "AE-l2": "acc_ae_l2",
    "CAE": "acc_cae",
    "CAE-l2": "acc_cae_l2",
    "CAE-batch": "acc_cae_batch",
    "CAE-layer": "acc_cae_layer",
}


def _arch(model: str) -> str:
    return "conv" if model.startswith("CAE") else "dense"


def budget_study(root: str | Path | None = None) -> pd.DataFrame:
    """Every snapshot row of the study file (data, model, seed, precision, epoch, loss, acc, nmi,
    train_seconds); rows from before the `data` field are MNIST's. A missing file names the script.
    `.attrs["readings"]` holds the runs' Table IV readings: one row per model, seed, precision, score
    and digit with its AUC (empty where no run recorded one)."""
    study_runs(BUDGET_STUDY, root)  # the file exists and is a study file (clear errors otherwise)
    base = Path(root) if root is not None else checkout_root()
    data = json.loads((Path(base) / "studies" / "results" / f"{BUDGET_STUDY}.json").read_text(encoding="utf-8"))
    rows = pd.DataFrame(data.get("rows") or [])
    if rows.empty:
        raise ValueError(f"studies/results/{BUDGET_STUDY}.json has no rows; run `python studies/{BUDGET_STUDY}.py`")
    rows["data"] = rows["data"].fillna("mnist") if "data" in rows else "mnist"
    readings = [
        {
            "model": run["model"],
            "seed": run["seed"],
            "precision": run["precision"],
            "epochs": run.get("epochs"),
            "score": name,
            "digit": digit,
            "auc": auc,
        }
        for run in data.get("runs") or []
        if run.get("paper_reading")
        for name, aucs in run["paper_reading"]["auc"].items()
        for digit, auc in zip(run["paper_reading"]["digits"], aucs, strict=True)
    ]
    rows.attrs["readings"] = pd.DataFrame(
        readings, columns=["model", "seed", "precision", "epochs", "score", "digit", "auc"]
    )
    return rows


def _at_budget(study: pd.DataFrame) -> pd.DataFrame:
    """The rows of each model's last epoch at the full profile's budget and precision (PAPER_BUDGET)."""
    keep = [
        (row.epoch == PAPER_BUDGET[_arch(row.model)][0]) and (row.precision == PAPER_BUDGET[_arch(row.model)][1])
        for row in study.itertuples()
    ]
    return study[keep]


def budget_record(study: pd.DataFrame) -> dict[str, Any]:
    """The study's Table I–III figures as a results record for `claims.claims_from_record`: per model,
    k-means accuracy and NMI at the paper's budget, mean over the seeds run with the sd (ddof=1) as
    `<metric>_std`, the seeds in `metric_seeds`, paired with the published figures; Fashion-MNIST as
    `fashion_acc_cae…` (no published figure); the l2 − plain margins paired by seed (`accuracy_margin`);
    Table IV's paper reading (`auc_…`, mean AUC over the digits per seed, then over seeds) where the
    CAE runs at the paper's budget recorded one.
    Training minutes per model (mean over its seeds) go in `train_minutes`, the training of all of
    them in `wall_time_s` (what the scoreboard shows as the study's cost)."""
    final = _at_budget(study)
    metrics: dict[str, float] = {}
    seeds: dict[str, list[int]] = {}
    minutes: dict[str, float] = {}
    for (data, model), part in final.groupby(["data", "model"], sort=False):
        if model not in _BUDGET_METRICS:
            continue
        name = _BUDGET_METRICS[model] if data == "mnist" else f"{data}_{_BUDGET_METRICS[model]}"
        part = part.sort_values("seed")
        for column, key in (("acc", name), ("nmi", name.replace("acc_", "nmi_", 1))):
            stats = mean_sd(part[column].to_numpy())
            metrics[key] = stats.mean
            if stats.n > 1:
                metrics[f"{key}_std"] = stats.sd
            seeds[key] = [int(x) for x in part["seed"]]
        minutes[name] = float(part["train_seconds"].mean() / 60)
    if not metrics:
        raise ValueError(f"studies/results/{BUDGET_STUDY}.json has no model at the paper's budget {PAPER_BUDGET}")
    readings = study.attrs.get("readings")
    if readings is not None and len(readings):
        for name, score in _ANOMALY_METRICS.items():
            model = "CAE-l2" if score.endswith("_l2") else "CAE"
            epochs, precision = PAPER_BUDGET["conv"]
            part = readings[
                (readings["model"] == model)
                & (readings["score"] == score)
                & (readings["epochs"] == epochs)
                & (readings["precision"] == precision)
            ]
            if part.empty:
                continue
            per_seed = part.groupby("seed")["auc"].mean()  # mean over the digits, as Table IV
            stats = mean_sd(per_seed.to_numpy())
            metrics[name] = stats.mean
            if stats.n > 1:
                metrics[f"{name}_std"] = stats.sd
            seeds[name] = [int(x) for x in per_seed.index]
    mnist = final[final["data"] == "mnist"]
    by_seed = [dict(zip(part["model"], part["acc"], strict=True)) for _, part in mnist.groupby("seed")]
    for plain in ("CAE", "AE"):
        metrics.update(accuracy_margin(by_seed, plain))
    published = {k: v for k, v in PUBLISHED.items() if k in metrics and not k.startswith("oneclass_")}
    return {
        "profile": "study",
        "seed": 0,
        "params": {"n_seeds": max(len(v) for v in seeds.values())},  # the most seeds a model has (seeds_of)
        "source": f"studies/{BUDGET_STUDY}.py",
        "device": "cpu",  # every run of the study so far; its rows do not record a device
        "wall_time_s": float(final["train_seconds"].sum()),  # the training of every model counted
        "metrics": metrics,
        "metric_seeds": seeds,
        "published": published,
        "train_minutes": minutes,
    }


def budget_curve(study: pd.DataFrame, models: Sequence[str] = ("CAE", "CAE-l2"), data: str = "mnist") -> pd.DataFrame:
    """k-means accuracy against epochs at the full profile's precision, mean and sd (ddof=1) over the
    seeds that reached each snapshot: columns model, epoch, acc, acc_sd, seeds (`plot_training_length`)."""
    rows = []
    for model in models:
        part = study[
            (study["data"] == data) & (study["model"] == model) & (study["precision"] == PAPER_BUDGET[_arch(model)][1])
        ]
        for epoch, group in part.groupby("epoch"):
            stats = mean_sd(group["acc"].to_numpy())
            rows.append({"model": model, "epoch": int(epoch), "acc": stats.mean, "acc_sd": stats.sd, "seeds": stats.n})
    if not rows:
        raise ValueError(f"the study has no rows for {list(models)} on {data!r}")
    return pd.DataFrame(rows)
