"""Chapter 1's pipeline: KMeans on CIFAR-10 grey pixels, then on sparse conv-autoencoder codes.

The steps the chapter runs, kept here so the notebook holds narrative, calls and figures:
subsets of the real data, the study's preprocessing, KMeans with sklearn beside ours, the
cluster-quality report (silhouette, both Dunn indices, Hungarian accuracy, NMI), the autoencoder's
training (checkpointed by config), the elbow sweep, and the chapter-specific figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..checkpoints import Checkpointer, array_fingerprint
from ..cluster import KMeans
from ..metrics import cluster_accuracy, dunn_index, nmi, silhouette_score
from ..models.sparse_conv_ae import SparseConvAE, SparseConvAEConfig, sparse_ae_loss
from ..results import ChapterRun, read_study
from ..training import TrainHistory, check_training_data, fit_autoencoder
from ..utils import Timer, batched, get_device, keep_torch_threads, set_seed

__all__ = [
    "STUDY",
    "PUBLISHED",
    "subset_indices",
    "grey_features",
    "rgb_features",
    "l2_normalise",
    "cluster_quality",
    "kmeans_vs_sklearn",
    "feature_space_table",
    "elbow_sweep",
    "nearest_to_centroids",
    "between_group_share",
    "AETrainingResult",
    "train_sparse_ae",
    "reconstruct",
    "plot_loss_curve",
    "plot_ae_panels",
    "plot_elbow",
    "plot_cluster_brightness",
    "record_results",
    "exercise_findings",
]

# The one home of the course study's figures (chapter 1's comparisons, claims table and scoreboard).
STUDY = "CIFAR-10 KMeans/autoencoder course study (AutoEncoder README)"
PUBLISHED = {
    "pixels_silhouette": {"value": 0.057, "source": STUDY + ", K-Means result"},
    "pixels_dunn_classic": {"value": 0.089, "source": STUDY + ", K-Means result (definition not stated)"},
    "ae_final_loss": {"value": 0.0114, "source": STUDY + ", loss after 5 epochs"},
    "codes_silhouette": {"value": 0.074, "source": STUDY + ", KMeans on encoder output"},
    "codes_dunn_classic": {"value": 0.041, "source": STUDY + ", KMeans on encoder output (definition not stated)"},
}


def subset_indices(n_total: int, n: int | None, seed: int) -> np.ndarray:
    """Sorted indices of a seeded random subset of size `n` (all of them when n is None or ≥ n_total)."""
    if n is None or n >= n_total:
        return np.arange(n_total)
    if n < 1:
        raise ValueError(f"subset size must be ≥ 1 (or None for all), got {n!r}")
    return np.sort(np.random.default_rng(seed).choice(n_total, size=int(n), replace=False))


def grey_features(grey: np.ndarray) -> np.ndarray:
    """The study's preprocessing: grey (N, 32, 32) in 0..255 → (N, 1024) float32 in [0, 1]."""
    grey = np.asarray(grey)
    if grey.ndim != 3:
        raise ValueError(f"grey images must be (N, H, W), got shape {grey.shape}")
    return (grey.reshape(len(grey), -1) / np.float32(255.0)).astype(np.float32)


def rgb_features(images: np.ndarray) -> np.ndarray:
    """RGB uint8 (N, 32, 32, 3) → (N, 3072) float32 in [0, 1] (the colour baseline)."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"RGB images must be (N, H, W, 3), got shape {images.shape}")
    return (images.reshape(len(images), -1) / np.float32(255.0)).astype(np.float32)


def l2_normalise(X: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows scaled to unit Euclidean norm (all-zero rows stay zero)."""
    X = np.asarray(X, dtype=np.float32)
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), eps)


def cluster_quality(
    X: np.ndarray,
    labels: np.ndarray,
    y: np.ndarray | None = None,
    *,
    silhouette_sample: int | None = None,
    seed: int = 0,
    device: str = "auto",
) -> dict[str, float]:
    """Silhouette, classic and centroid Dunn, and (with true labels) Hungarian accuracy and NMI."""
    out = {
        "silhouette": _silhouette(X, labels, silhouette_sample, seed, device),
        "dunn_classic": float(dunn_index(X, labels, kind="classic", device=device)),
        "dunn_centroid": float(dunn_index(X, labels, kind="centroid", device=device)),
    }
    if y is not None:
        out["acc"] = float(cluster_accuracy(y, labels))
        out["nmi"] = float(nmi(y, labels))
    return out


def _silhouette(X: np.ndarray, labels: np.ndarray, sample: int | None, seed: int, device: str) -> float:
    return float(silhouette_score(X, labels, sample_size=sample, random_state=seed, device=device))


def _fit_ours(X: np.ndarray, n_clusters: int, n_init: int, seed: int, device: str) -> tuple[KMeans, float]:
    with Timer() as t:
        km = KMeans(n_clusters, n_init=n_init, random_state=seed, device=device).fit(X)
    return km, t.seconds


def kmeans_vs_sklearn(
    X: np.ndarray,
    n_clusters: int = 10,
    *,
    n_init: int = 1,
    seed: int = 0,
    device: str = "auto",
    silhouette_sample: int | None = None,
) -> tuple[KMeans, pd.DataFrame]:
    """Fit our KMeans and sklearn's with the same k, init, n_init and seed; one row each.

    Columns: inertia, silhouette, iterations, seconds, and the ARI between the two labelings
    (1.0 = the same partition up to renaming the clusters).
    """
    from sklearn.cluster import KMeans as SkKMeans
    from sklearn.metrics import adjusted_rand_score

    ours, t_ours = _fit_ours(X, n_clusters, n_init, seed, device)
    with Timer() as t:
        ref = SkKMeans(n_clusters, init="k-means++", n_init=n_init, random_state=seed).fit(X)
    agreement = float(adjusted_rand_score(ours.labels_, ref.labels_))
    rows = []
    for name, model, seconds in (("dcca_core", ours, t_ours), ("scikit-learn", ref, t.seconds)):
        rows.append(
            {
                "implementation": name,
                "inertia": float(model.inertia_),
                "silhouette": _silhouette(X, model.labels_, silhouette_sample, seed, device),
                "iterations": int(model.n_iter_),
                "seconds": seconds,
                "ARI vs other": agreement,
            }
        )
    return ours, pd.DataFrame(rows).set_index("implementation")


def feature_space_table(
    spaces: dict[str, np.ndarray],
    y: np.ndarray,
    n_clusters: int = 10,
    *,
    n_init: int = 1,
    seed: int = 0,
    device: str = "auto",
    silhouette_sample: int | None = None,
) -> tuple[pd.DataFrame, dict[str, KMeans]]:
    """KMeans in each feature space and its quality report, one row per space (plus the fits)."""
    rows, fits = [], {}
    for name, X in spaces.items():
        km, seconds = _fit_ours(X, n_clusters, n_init, seed, device)
        fits[name] = km
        row = {"feature space": name, "dims": int(X.shape[1]), "inertia": float(km.inertia_)}
        row.update(cluster_quality(X, km.labels_, y, silhouette_sample=silhouette_sample, seed=seed, device=device))
        row["kmeans seconds"] = seconds
        rows.append(row)
    return pd.DataFrame(rows).set_index("feature space"), fits


def elbow_sweep(
    X: np.ndarray,
    ks: list[int] | range,
    *,
    n_init: int = 1,
    seed: int = 0,
    device: str = "auto",
    silhouette_sample: int | None = None,
) -> pd.DataFrame:
    """Inertia and silhouette of our KMeans for each k (the elbow plot's data)."""
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 2:
        raise ValueError(f"ks must be a non-empty list of k ≥ 2 (silhouette needs two clusters), got {ks}")
    rows = []
    for k in ks:
        km, _ = _fit_ours(X, k, n_init, seed, device)
        rows.append(
            {
                "k": k,
                "inertia": float(km.inertia_),
                "silhouette": _silhouette(X, km.labels_, silhouette_sample, seed, device),
            }
        )
    return pd.DataFrame(rows)


def nearest_to_centroids(X: np.ndarray, centers: np.ndarray, labels: np.ndarray, n_per_cluster: int) -> np.ndarray:
    """(k, n) indices of each cluster's members nearest its centre, closest first; -1 pads small clusters."""
    X, centers, labels = np.asarray(X), np.asarray(centers), np.asarray(labels)
    if len(X) != len(labels):
        raise ValueError(f"X and labels differ in length: {len(X)} vs {len(labels)}")
    out = np.full((len(centers), n_per_cluster), -1, dtype=np.int64)
    for c, centre in enumerate(centers):
        members = np.flatnonzero(labels == c)
        d = np.linalg.norm(X[members] - centre, axis=1)
        best = members[np.argsort(d, kind="stable")[:n_per_cluster]]
        out[c, : len(best)] = best
    return out


def between_group_share(values: np.ndarray, groups: np.ndarray) -> float:
    """η²: the share of the variance of `values` explained by group means (between / total)."""
    values, groups = np.asarray(values, dtype=np.float64), np.asarray(groups)
    if len(values) != len(groups):
        raise ValueError(f"values and groups differ in length: {len(values)} vs {len(groups)}")
    total = float(((values - values.mean()) ** 2).sum())
    if total == 0.0:
        raise ValueError("values are constant; the explained share is undefined")
    between = sum(((groups == g).sum() * (values[groups == g].mean() - values.mean()) ** 2) for g in np.unique(groups))
    return float(between / total)


@dataclass
class AETrainingResult:
    """A trained sparse conv-AE, its history and whether it came from a checkpoint."""

    model: SparseConvAE
    history: TrainHistory
    from_checkpoint: bool
    checkpoint_path: str | None

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's mean loss (MSE + L1, as Keras reports it), MSE and penalty."""
        return dict(self.history.logs[-1])


# The modules whose source trains the sparse conv-AE: their fingerprint is part of its checkpoint key.
TRAINING_CODE = ("dcca_core.training.loop", "dcca_core.models.sparse_conv_ae")


def train_sparse_ae(
    X: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    l1_weight: float = 1e-4,
    seed: int = 0,
    device: str = "auto",
    checkpoint: bool = True,
    progress: bool = True,
    threads: int | None = 1,
    config: SparseConvAEConfig | None = None,
) -> AETrainingResult:
    """Train the study's sparse conv-AE on grey images `X` (N, 32, 32) in [0, 1] with Adam and MSE + L1.

    With `checkpoint`, the weights are stored under a hash of everything that changes them
    (model config, a fingerprint of the images, epochs, batch, lr, seed, and the training code), so a
    re-run on the same images reuses them and a run on other images never does.
    `threads` caps torch's CPU threads while training (restored after): the network has 334
    weights, so extra threads only add synchronisation — on a busy 2-core machine batch-32 steps ran
    8× slower with 2 threads than with 1 — and a fixed count keeps the numbers independent of the
    machine's core count. None leaves torch's setting alone.
    """
    X = check_training_data(np.asarray(X, dtype=np.float32), "X").numpy()
    if X.ndim != 3:
        raise ValueError(f"X must be grey images (N, H, W) in [0, 1], got shape {X.shape}")
    if X.min() < 0 or X.max() > 1:
        raise ValueError(f"X must be scaled to [0, 1] (divide by 255), got range [{X.min():.3g}, {X.max():.3g}]")
    cfg = config if config is not None else SparseConvAEConfig(l1_weight=l1_weight)
    set_seed(seed)
    model = SparseConvAE(cfg)
    ckpt = None
    if checkpoint:
        ckpt = Checkpointer(
            "sparse_conv_ae",
            {
                "model": cfg.to_dict(),
                "data": array_fingerprint(X),
                "n": int(len(X)),
                "epochs": epochs,
                "batch_size": batch_size,
                "lr": lr,
                "optimizer": "adam",
                "seed": seed,
            },
            code=TRAINING_CODE,
        )
    resumed = ckpt is not None and ckpt.exists()
    with keep_torch_threads(threads):
        history = fit_autoencoder(
            model,
            X[:, None],
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            loss_fn=sparse_ae_loss,
            device=device,
            seed=seed,
            checkpoint=ckpt,
            desc="sparse conv-AE",
            progress=progress,
        )
    return AETrainingResult(model, history, resumed, str(ckpt.path) if ckpt is not None else None)


def reconstruct(model: SparseConvAE, X: np.ndarray, batch_size: int = 1024, device: str = "auto") -> np.ndarray:
    """Reconstructions (N, H, W) of grey images (N, H, W) in [0, 1]."""
    dev = get_device(device)
    model.to(dev).eval()
    data = check_training_data(np.asarray(X, dtype=np.float32), "X")
    return batched(lambda xb: model(xb[:, None])[0][:, 0], data, batch_size, dev).numpy()


# ---- chapter-specific figures -------------------------------------------------------------------


def plot_loss_curve(history: TrainHistory, published: float | None = None):
    """Per-epoch loss (MSE + L1), its MSE part, and the study's final loss as a dashed line."""
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history.epoch_loss) + 1)
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.plot(epochs, history.epoch_loss, "o-", label="loss = MSE + L1 penalty")
    ax.plot(epochs, [log["mse"] for log in history.logs], "s--", label="MSE alone")
    if published is not None:
        ax.axhline(published, color="k", ls=":", label=f"study's final loss {published}")
    ax.set(xlabel="epoch", ylabel="training loss (epoch mean)", yscale="log", xticks=epochs)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_ae_panels(originals: np.ndarray, reconstructions: np.ndarray, codes: np.ndarray, n: int = 8):
    """Three rows: grey originals, their reconstructions, and their 8×8 codes (upscaled)."""
    import matplotlib.pyplot as plt

    n = min(n, len(originals))
    side = int(round(np.sqrt(codes.shape[1])))
    fig, axes = plt.subplots(3, n, figsize=(1.3 * n, 4.2), squeeze=False)
    rows = (
        ("original", originals, (0, 1)),
        ("reconstruction", reconstructions, (0, 1)),
        ("8×8 code", codes.reshape(len(codes), side, side), None),
    )
    for r, (title, images, lim) in enumerate(rows):
        for i in range(n):
            ax = axes[r, i]
            kw = {"vmin": lim[0], "vmax": lim[1]} if lim else {}
            ax.imshow(images[i], cmap="gray" if lim else "viridis", interpolation="nearest", **kw)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(title)
    fig.tight_layout()
    return fig


def plot_elbow(curves: dict[str, pd.DataFrame], k_marked: int | None = None):
    """Inertia (relative to k=min) and silhouette against k, one line per feature space."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, df in curves.items():
        ax1.plot(df["k"], df["inertia"] / df["inertia"].iloc[0], "o-", ms=3, label=name)
        ax2.plot(df["k"], df["silhouette"], "o-", ms=3, label=name)
    ax1.set(xlabel="k", ylabel="inertia / inertia at smallest k", title="elbow")
    ax2.set(xlabel="k", ylabel="silhouette", title="silhouette")
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if k_marked is not None:
            ax.axvline(k_marked, color="grey", ls=":")
        ax.legend()
    fig.tight_layout()
    return fig


def plot_cluster_brightness(
    brightness: np.ndarray, clusters: np.ndarray, classes: np.ndarray, class_names: list[str] | None = None
):
    """Mean image brightness per cluster and per true class (box plots), side by side."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    panels = (
        (axes[0], np.asarray(clusters), None, "KMeans clusters (grey pixels)"),
        (axes[1], np.asarray(classes), class_names, "true classes"),
    )
    for ax, groups, names, title in panels:
        order = sorted(np.unique(groups), key=lambda g: np.median(brightness[groups == g]))
        ax.boxplot([brightness[groups == g] for g in order], showfliers=False)
        ticks = [names[g] if names is not None else str(g) for g in order]
        ax.set_xticks(range(1, len(order) + 1), ticks, rotation=45 if names is not None else 0)
        ax.set_title(title + ", sorted by median")
    axes[0].set_ylabel("mean grey level of the image")
    fig.tight_layout()
    return fig


def record_results(
    run: ChapterRun,
    *,
    pixels: tuple[KMeans, pd.DataFrame, dict[str, float]],
    codes: tuple[KMeans, pd.DataFrame, dict[str, float]],
    ae: AETrainingResult,
    spaces: pd.DataFrame,
    elbow: dict[str, pd.DataFrame],
    brightness_eta2: pd.Series,
) -> tuple[Path, dict[str, Any]]:
    """Write chapter 1's results record; returns its path and the metrics.

    `pixels` and `codes` are each (our fitted KMeans, its `kmeans_vs_sklearn` table, its
    `cluster_quality`); `spaces` is `feature_space_table`'s table; `brightness_eta2` the η² series of
    the brightness section, indexed as the chapter labels it.
    """
    (km_pixels, parity_pixels, q_pixels), (km_codes, parity_codes, q_codes) = pixels, codes
    metrics: dict[str, Any] = {
        **{f"pixels_{name}": value for name, value in q_pixels.items()},
        "pixels_inertia": float(km_pixels.inertia_),
        "pixels_sklearn_inertia": float(parity_pixels.loc["scikit-learn", "inertia"]),
        "pixels_sklearn_silhouette": float(parity_pixels.loc["scikit-learn", "silhouette"]),
        "pixels_ours_vs_sklearn_ari": float(parity_pixels.loc["dcca_core", "ARI vs other"]),
        "pixels_kmeans_seconds": float(parity_pixels.loc["dcca_core", "seconds"]),
        "pixels_sklearn_seconds": float(parity_pixels.loc["scikit-learn", "seconds"]),
        **{f"ae_final_{name}": ae.final[name] for name in ("loss", "mse", "l1_penalty")},
        **{f"codes_{name}": value for name, value in q_codes.items()},
        "codes_inertia": float(km_codes.inertia_),
        "codes_sklearn_inertia": float(parity_codes.loc["scikit-learn", "inertia"]),
        "codes_ours_vs_sklearn_ari": float(parity_codes.loc["dcca_core", "ARI vs other"]),
    }
    for prefix, row in (("rgb", "RGB pixels"), ("l2codes", "AE codes, l2-normalised")):
        metrics[f"{prefix}_acc"] = float(spaces.loc[row, "acc"])
        metrics[f"{prefix}_nmi"] = float(spaces.loc[row, "nmi"])
    metrics["brightness_eta2_pixel_clusters"] = float(brightness_eta2["KMeans on grey pixels"])
    metrics["brightness_eta2_classes"] = float(brightness_eta2["the 10 true classes"])
    extra = {
        "feature_spaces": spaces.reset_index().to_dict(orient="records"),
        "elbow": {name: curve.to_dict(orient="list") for name, curve in elbow.items()},
        "ae_epoch_logs": ae.history.logs,
        "ae_from_checkpoint": ae.from_checkpoint,
    }
    return run.write(metrics, published=PUBLISHED, extra=extra), metrics


def exercise_findings(root: str | Path | None = None) -> dict[str, float]:
    """The numbers the exercise solutions quote, from the study `studies/ch1_exercises.py` (full data).

    Seed sweep: the range of the silhouette and the classic Dunn index over seeds and n_init; the L1
    weight: final MSE/penalty/loss per λ, the zero-code share at 0.01 and the training images' mean
    per-pixel variance (what a decoder ignoring its input reaches); contrast: η² and accuracy before
    and after per-image standardisation.
    """
    seeds = read_study("ch1_exercises", root, part="seeds")["runs"]
    out = {
        f"ex_seeds_{metric}_{end}": float(fn(r[metric] for r in seeds))
        for metric in ("silhouette", "dunn_classic")
        for end, fn in (("min", min), ("max", max))
    }
    l1 = read_study("ch1_exercises", root, part="l1_weight")
    by_weight = {r["l1_weight"]: r for r in l1["runs"]}
    for weight, tag in ((0.0, "0"), (1e-5, "1e5"), (1e-4, "1e4"), (1e-2, "001")):
        for key in ("mse", "l1_penalty", "loss"):
            out[f"ex_l1_{tag}_{key}"] = float(by_weight[weight][key])
    out["ex_l1_001_zero_share"] = float(by_weight[1e-2]["zero_code_share"])
    out["ex_train_pixel_variance"] = float(l1["train_pixel_variance"])
    contrast = read_study("ch1_exercises", root, part="contrast")
    for name in ("pixels", "standardised"):
        out[f"ex_contrast_{name}_eta2"] = float(contrast[name]["brightness_eta2"])
        out[f"ex_contrast_{name}_acc"] = float(contrast[name]["acc"])
    return out
