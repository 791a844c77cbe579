"""Chapter 2's pipeline: DEC and IDEC on MNIST (Xie et al. 2016; Guo et al. 2017) with baselines.

One call, `run_pipeline`, does what the chapter reproduces for one seed: KMeans on pixels, the
stacked denoising autoencoder (checkpointed), AE+KMeans, DEC, IDEC and AE+UMAP+GMM (N2D,
McConville et al. 2020). The notebook keeps the narrative, the parameters and the figures.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..checkpoints import Checkpointer
from ..results import ChapterRun, study_runs
from ..training import encode
from ..training.dec import CLUSTERING_CODE, DECClusterer, DECConfig, DECHistory
from ..training.sdae import PretrainResult, SDAEConfig, pretrain_sdae
from ..utils import keep_torch_threads, mean_sd, set_seed

__all__ = [
    "PUBLISHED",
    "CLAIM_NOTES",
    "REFERENCE_ONLY",
    "METHODS",
    "PipelineConfig",
    "with_autoencoder",
    "PipelineRun",
    "clusterer_checkpoint",
    "dec_scale",
    "load_images",
    "evaluate",
    "umap_gmm",
    "run_pipeline",
    "summarize",
    "metrics_dict",
    "published_table",
    "record_results",
    "RECIPE_STUDY",
    "recipe_study",
    "recipe_table",
    "recipe_findings",
    "recipe_text",
    "confidence_extremes",
    "plot_pretraining",
    "plot_dec_progress",
]

METHODS = ("kmeans_pixels", "ae_kmeans", "dec", "idec", "ae_umap")
"""Method keys, in the order the chapter reports them."""

PUBLISHED: dict[str, dict[str, Any]] = {
    "kmeans_pixels_accuracy": {"value": 0.5349, "source": "Xie et al. 2016, Table 2 (k-means, MNIST)"},
    "dec_accuracy": {"value": 0.8430, "source": "Xie et al. 2016, Table 2"},
    "idec_accuracy": {"value": 0.8806, "source": "Guo et al. 2017 (IDEC), Table 2"},
    "idec_nmi": {"value": 0.8672, "source": "Guo et al. 2017 (IDEC), Table 2"},
    "ae_umap_accuracy": {"value": 0.979, "source": "McConville et al. 2020 (N2D), Table 2"},
    "ae_umap_nmi": {"value": 0.942, "source": "McConville et al. 2020 (N2D), Table 2"},
}
"""Published MNIST figures, keyed like our metrics (all 70,000 images in each paper)."""

PUBLISHED_FASHION: dict[str, dict[str, Any]] = {
    "fashion_dec_accuracy": {
        "value": 0.62,
        "source": "≈ figure quoted in issue 6 for DEC on Fashion-MNIST",
        "kind": "target",  # not a citable published figure: no verdict
    },
}

CLAIM_NOTES: dict[str, str] = {
    "kmeans_pixels_accuracy": "the paper's baseline, same protocol",
    "dec_accuracy": "our autoencoder is a plain one trained end to end for 50 epochs, not the paper's layer-wise SDAE",
    "idec_accuracy": "the same autoencoder as DEC's; IDEC keeps its decoder",
    "idec_nmi": "the same autoencoder as DEC's; IDEC keeps its decoder",
    "ae_umap_accuracy": "N2D's recipe (UMAP to 10-d, a Gaussian mixture) on our autoencoder",
    "ae_umap_nmi": "N2D's recipe (UMAP to 10-d, a Gaussian mixture) on our autoencoder",
}
"""Why each claim's verdict comes out as it does in the full profile (the claims table's last column)."""

REFERENCE_ONLY: dict[str, dict[str, Any]] = {
    "dcec_accuracy": {"value": 0.8897, "source": "Guo et al. 2017 (DCEC, convolutional), Table 2"},
}
"""Published numbers of methods this chapter does not run (shown for context)."""


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------


def dec_scale(images: np.ndarray) -> np.ndarray:
    """Flatten and scale so that (1/d)·‖x_i‖² ≈ 1 on average, the paper's normalisation (§4.1)."""
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1) / np.float32(255.0)
    mean_sq = float(np.mean(x.astype(np.float64) ** 2))
    if not mean_sq > 0:
        raise ValueError("images are all zero; nothing to scale")
    return x * np.float32(1.0 / np.sqrt(mean_sq))


def load_images(
    dataset: str = "mnist", n_samples: int | None = None, subset_seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images uint8 (N,28,28), labels, indices into the 70,000) for "mnist" or "fashion_mnist".

    `n_samples=None` keeps all 70,000 (train + test, the paper's protocol); otherwise a fixed random
    subset (sorted indices, `subset_seed`) is drawn for smoke runs.
    """
    from ..data import load_fashion_mnist, load_mnist

    loaders = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}
    if dataset not in loaders:
        raise ValueError(f"dataset must be one of {sorted(loaders)}, got {dataset!r}")
    images, labels = loaders[dataset]("all")
    n = len(labels)
    if n_samples is None or n_samples >= n:
        idx = np.arange(n)
    elif n_samples < 10:
        raise ValueError(f"n_samples must be ≥ 10 (one per class) or None for all, got {n_samples}")
    else:
        idx = np.sort(np.random.default_rng(subset_seed).choice(n, size=int(n_samples), replace=False))
    return images[idx], np.asarray(labels)[idx], idx


# ----------------------------------------------------------------------------------------------
# Evaluation and the N2D baseline
# ----------------------------------------------------------------------------------------------


def evaluate(y_true: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Unsupervised accuracy (Hungarian matching), NMI and ARI of a clustering."""
    from ..metrics import ari, cluster_accuracy, nmi

    return {
        "accuracy": float(cluster_accuracy(y_true, labels)),
        "nmi": float(nmi(y_true, labels)),
        "ari": float(ari(y_true, labels)),
    }


def umap_gmm(
    Z: np.ndarray,
    n_clusters: int,
    *,
    n_neighbors: int = 20,
    min_dist: float = 0.0,
    n_components: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """N2D (McConville et al. 2020): UMAP of the autoencoder embedding, then a full-covariance
    Gaussian mixture. Returns (labels, the UMAP manifold)."""
    import umap
    from sklearn.mixture import GaussianMixture

    with keep_torch_threads():
        manifold = umap.UMAP(
            n_neighbors=n_neighbors,
            min_dist=min_dist,
            n_components=n_components or n_clusters,
            metric="euclidean",
            random_state=seed,
        ).fit_transform(Z)
    gmm = GaussianMixture(n_clusters, covariance_type="full", random_state=seed).fit(manifold)
    return gmm.predict(manifold), manifold


# ----------------------------------------------------------------------------------------------
# The pipeline
# ----------------------------------------------------------------------------------------------


@dataclass
class PipelineConfig:
    """Everything that changes the chapter's numbers, besides the seed and the data subset."""

    sdae: SDAEConfig = field(default_factory=SDAEConfig)
    dec: DECConfig = field(default_factory=DECConfig)
    idec: DECConfig = field(default_factory=lambda: DECConfig(gamma=0.1, lr=1e-3, optimizer="adam"))
    kmeans_n_init: int = 20
    umap_neighbors: int = 20
    umap_min_dist: float = 0.0

    def __post_init__(self) -> None:
        if self.idec.gamma <= 0:
            raise ValueError(f"the IDEC config needs gamma > 0, got {self.idec.gamma}")
        if self.dec.gamma != 0:
            raise ValueError(f"the DEC config needs gamma = 0 (no reconstruction), got {self.dec.gamma}")


def with_autoencoder(config: PipelineConfig, **changes: Any) -> PipelineConfig:
    """A copy of `config` whose autoencoder settings (`SDAEConfig` fields) are changed, the rest
    kept: a recipe that suits one data set can hurt another (chapter 2, Fashion-MNIST)."""
    known = {f.name for f in fields(config.sdae)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(f"unknown autoencoder setting(s) {unknown}; SDAEConfig has {sorted(known)}")
    return replace(config, sdae=replace(config.sdae, **changes))


@dataclass
class PipelineRun:
    """One seed's results: labels and metrics per method, models, histories and stage timings.

    `embedding` is the pretrained autoencoder's code of every image (before DEC); `dec_embedding`
    and `dec_q` are the code and the soft assignments after DEC.

    `seconds` is wall time per stage; `cpu_seconds` is this process's CPU time, which does not
    grow when other jobs share the machine (the fair measure on a busy 2-core box).
    """

    dataset: str
    seed: int
    y: np.ndarray
    labels: dict[str, np.ndarray]
    metrics: dict[str, dict[str, float]]
    pretrain: PretrainResult
    embedding: np.ndarray
    dec: DECClusterer
    idec: DECClusterer
    dec_embedding: np.ndarray
    dec_q: np.ndarray
    umap_manifold: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)


class _Stage:
    """Times one pipeline stage (wall and CPU) into a run's dictionaries."""

    def __init__(self, seconds: dict[str, float], cpu: dict[str, float], name: str) -> None:
        self.seconds, self.cpu, self.name = seconds, cpu, name

    def __enter__(self) -> _Stage:
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds[self.name] = time.perf_counter() - self.t0
        self.cpu[self.name] = time.process_time() - self.c0


def clusterer_checkpoint(
    kind: str, dataset: str, pretrain: PretrainResult, config: DECConfig, seed: int
) -> Checkpointer:
    """Where the chapter keeps a finished or interrupted DEC/IDEC phase ("dec" or "idec"), keyed by
    the autoencoder it starts from, its config and the seed; studies reuse the same key."""
    return Checkpointer(
        f"{kind}-{dataset.replace('_', '')}",
        {"autoencoder": pretrain.checkpoint_key, "dec": asdict(config), "seed": int(seed)},
        code=CLUSTERING_CODE,
    )


def run_pipeline(
    images: np.ndarray,
    y: np.ndarray,
    config: PipelineConfig | None = None,
    *,
    dataset: str = "mnist",
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    log: Any = print,
) -> PipelineRun:
    """KMeans on pixels → SDAE pretraining → AE+KMeans → DEC → IDEC → AE+UMAP+GMM, for one seed.

    Pretrained autoencoders and the DEC/IDEC phases are checkpointed (reused when finished,
    resumed when interrupted). True labels are used only for evaluation and for logging the
    accuracy per DEC update, never for training.
    """
    from ..cluster import KMeans

    config = config or PipelineConfig()
    y = np.asarray(y)
    if len(images) != len(y):
        raise ValueError(f"images and y differ in length: {len(images)} vs {len(y)}")
    k = config.dec.n_clusters
    if config.idec.n_clusters != k:
        raise ValueError(f"DEC and IDEC must use the same n_clusters, got {k} and {config.idec.n_clusters}")
    X = dec_scale(images)
    set_seed(seed)
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    labels: dict[str, np.ndarray] = {}
    say = log or (lambda *_: None)

    with _Stage(seconds, cpu, "kmeans_pixels"):
        labels["kmeans_pixels"] = np.asarray(
            KMeans(k, n_init=config.kmeans_n_init, random_state=seed, device=device).fit(X).labels_
        )
    say(f"[seed {seed}] KMeans on pixels: {seconds['kmeans_pixels']:.0f} s")
    with _Stage(seconds, cpu, "pretrain"):
        pretrain = pretrain_sdae(
            X,
            config.sdae,
            seed=seed,
            device=device,
            checkpoint_name=f"sdae-{dataset.replace('_', '')}",
            progress=progress,
        )
    say(
        f"[seed {seed}] autoencoder {'reused from checkpoint' if pretrain.reused else 'trained'} "
        f"({pretrain.checkpoint_key}): {seconds['pretrain']:.0f} s"
    )
    with _Stage(seconds, cpu, "ae_kmeans"):
        Z = encode(pretrain.model, X, device=device)
        labels["ae_kmeans"] = np.asarray(
            KMeans(k, n_init=config.kmeans_n_init, random_state=seed, device=device).fit(Z).labels_
        )
    fitted = {}
    for kind, dec_config in (("dec", config.dec), ("idec", config.idec)):
        with _Stage(seconds, cpu, kind):
            model = DECClusterer(
                pretrain.model,
                dec_config,
                random_state=seed,
                device=device,
                progress=progress,
                checkpoint=clusterer_checkpoint(kind, dataset, pretrain, dec_config, seed),
            )
            fitted[kind] = model.fit(X, y)
            labels[kind] = model.labels_
        h = model.history_
        reused = " (reused from checkpoint)" if h.resumed_from_iter == h.n_iter else ""
        say(
            f"[seed {seed}] {kind.upper()}: {h.n_iter} iterations, "
            f"{'converged' if h.converged else 'stopped at max_iter'}{reused}: {seconds[kind]:.0f} s"
        )
    with _Stage(seconds, cpu, "ae_umap"):
        labels["ae_umap"], manifold = umap_gmm(
            Z, k, n_neighbors=config.umap_neighbors, min_dist=config.umap_min_dist, seed=seed
        )
    say(f"[seed {seed}] AE+UMAP+GMM: {seconds['ae_umap']:.0f} s")
    metrics = {m: evaluate(y, labels[m]) for m in METHODS}
    dec = fitted["dec"]
    return PipelineRun(
        dataset,
        seed,
        y,
        labels,
        metrics,
        pretrain,
        Z,
        dec,
        fitted["idec"],
        dec.transform(X),
        dec.predict_proba(X),
        manifold,
        seconds,
        cpu,
    )


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------


def summarize(runs: list[PipelineRun]) -> pd.DataFrame:
    """Mean and standard deviation over seeds (`utils.mean_sd`, ddof=1; NaN for one seed), one row
    per method, columns metric_mean/metric_std; the columns' name says what the sd is."""
    if not runs:
        raise ValueError("need at least one run to summarise")
    rows = []
    for method in METHODS:
        row: dict[str, Any] = {"method": method}
        for metric in ("accuracy", "nmi", "ari"):
            stats = mean_sd([r.metrics[method][metric] for r in runs])
            row[f"{metric}_mean"], row[f"{metric}_std"] = stats.mean, stats.sd
        rows.append(row)
    table = pd.DataFrame(rows).set_index("method")
    table.columns.name = stats.label()
    return table


def metrics_dict(runs: list[PipelineRun], prefix: str = "") -> dict[str, float]:
    """Flat `<prefix><method>_<metric>` → mean over seeds (and `..._std` when there are ≥ 2 seeds)."""
    table = summarize(runs)
    out: dict[str, float] = {}
    for method, row in table.iterrows():
        for metric in ("accuracy", "nmi", "ari"):
            out[f"{prefix}{method}_{metric}"] = float(row[f"{metric}_mean"])
            if len(runs) > 1:
                out[f"{prefix}{method}_{metric}_std"] = float(row[f"{metric}_std"])
    return out


def published_table(
    metrics: dict[str, float],
    published: dict[str, dict[str, Any]],
    reference_only: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Ours vs published, one row per published metric (ours blank for reference-only methods)."""
    rows = []
    for key, pub in {**published, **(reference_only or {})}.items():
        ours = metrics.get(key)
        rows.append(
            {
                "metric": key,
                "ours": ours,
                "ours_std": metrics.get(f"{key}_std"),
                "published": pub["value"],
                "difference": None if ours is None else ours - pub["value"],
                "source": pub["source"],
            }
        )
    table = pd.DataFrame(rows).set_index("metric")
    table.columns.name = "ours_std: sd over seeds (ddof=1, see summarize)"
    return table


def record_results(
    run: ChapterRun, runs: list[PipelineRun], fashion_runs: Sequence[PipelineRun] = ()
) -> tuple[Path, dict[str, float], dict[str, dict[str, Any]]]:
    """Write chapter 2's results record; returns its path, the metrics and the published figures
    they stand beside. MNIST metrics are over `runs`' seeds, Fashion-MNIST's (`fashion_` names,
    paired with the Fashion figures) over its own, which `metric_seeds` records."""
    metrics = metrics_dict(runs)
    published = dict(PUBLISHED)
    if fashion_runs:
        fashion_metrics = metrics_dict(list(fashion_runs), prefix="fashion_")
        metrics.update(fashion_metrics)
        published.update(PUBLISHED_FASHION)
        metric_seeds = {name: [r.seed for r in fashion_runs] for name in fashion_metrics}
    else:
        metric_seeds = {}
    extra = {
        "protocol": "fit and evaluated on the same images (all 70,000 in the full profile), as in the paper",
        "runs": [
            {
                "dataset": r.dataset,
                "seed": r.seed,
                "metrics": r.metrics,
                "seconds": r.seconds,
                "cpu_seconds": r.cpu_seconds,
                "autoencoder": r.pretrain.checkpoint_key,
                "autoencoder_reused": r.pretrain.reused,
                "dec_iterations": r.dec.n_iter_,
                "dec_converged": r.dec.history_.converged,
                "idec_iterations": r.idec.n_iter_,
                "idec_converged": r.idec.history_.converged,
            }
            for r in [*runs, *fashion_runs]
        ],
        "reference_only": REFERENCE_ONLY,
    }
    path = run.write(metrics, published=published, extra=extra, metric_seeds=metric_seeds)
    return path, metrics, published


# ----------------------------------------------------------------------------------------------
# The autoencoder-recipe study behind the method section
# ----------------------------------------------------------------------------------------------

RECIPE_STUDY = "ch2_autoencoder_length"
"""`studies/ch2_autoencoder_length.py`: which autoencoder recipe the full profile uses, and why."""

_RECIPE_LABELS = {
    "sdae": "layer-wise, 5 epochs per pair, + {} epochs of fine-tuning",
    "plain": "plain, {} epochs end to end",
}


def recipe_study(root: str | Path | None = None) -> pd.DataFrame:
    """One row per run of the recipe study: data set, recipe, fine-tuning epochs of its last stop, seed,
    the CPU it ran on ("not recorded" for runs from before `machine_info` named it) and the accuracy
    of AE+KMeans, DEC and IDEC on that autoencoder (DEC/IDEC run on the last stop only; NaN where a
    run skipped them). Earlier stops of a run are left out: each run is one row."""
    rows = []
    for r in study_runs(RECIPE_STUDY, root):
        settings, last = r["settings"], r["stops"][-1]
        clustering = r.get("clustering_on_last") or {}
        rows.append(
            {
                "dataset": settings["dataset"],
                "recipe": settings["recipe"],
                "epochs": int(last["finetune_epochs"]),
                "seed": int(settings["seed"]),
                "cpu": (r.get("machine") or {}).get("cpu_model", "not recorded"),
                "ae_kmeans": float(last["ae_kmeans"]["accuracy"]),
                **{
                    m: float(clustering[m]["metrics"]["accuracy"]) if m in clustering else np.nan
                    for m in ("dec", "idec")
                },
            }
        )
    if not rows:
        raise ValueError(f"studies/results/{RECIPE_STUDY}.json has no runs; run `python studies/{RECIPE_STUDY}.py`")
    return pd.DataFrame(rows).sort_values(["dataset", "recipe", "epochs", "seed"], ignore_index=True)


def recipe_table(study: pd.DataFrame, dataset: str = "mnist") -> pd.DataFrame:
    """The method section's table for one data set: accuracy in %, mean ± sd over the seeds run
    (`utils.mean_sd`, ddof=1; a single seed's number alone), one row per recipe and length."""
    part = study[study["dataset"] == dataset]
    if part.empty:
        raise ValueError(f"the recipe study has no run on {dataset!r}; data sets run: {sorted(set(study['dataset']))}")
    rows = []
    order = {recipe: i for i, recipe in enumerate(_RECIPE_LABELS)}  # the paper's recipe first
    part = part.sort_values(["recipe", "epochs", "seed"], key=lambda c: c.map(order) if c.name == "recipe" else c)
    for (recipe, epochs), group in part.groupby(["recipe", "epochs"], sort=False):
        row: dict[str, Any] = {"autoencoder (Adam, batch 256)": _RECIPE_LABELS[recipe].format(epochs)}
        for column, name in (("ae_kmeans", "AE+KMeans"), ("dec", "DEC"), ("idec", "IDEC")):
            values = group[column].dropna().to_numpy()
            if len(values) == 0:
                row[name] = "–"
                continue
            stats = mean_sd(100 * values)
            row[name] = f"{stats.mean:.1f} %" if stats.n == 1 else f"{stats.mean:.1f} ± {stats.sd:.1f} %"
        row["seeds"] = ", ".join(str(s) for s in group["seed"])
        row["CPU"] = ", ".join(dict.fromkeys(group["cpu"]))  # the same seed differs a little between CPUs
        rows.append(row)
    return pd.DataFrame(rows).set_index("autoencoder (Adam, batch 256)")


def recipe_findings(study: pd.DataFrame) -> dict[str, float]:
    """The numbers the chapter quotes from the recipe study, in % (for `glue`): seed 0's AE+KMeans
    and DEC for the plain and the layer-wise 50-epoch recipes on MNIST (required: a missing run is a
    clear error); DEC and IDEC of the layer-wise 50-epoch recipe over the seeds run (mean, sd with
    ddof=1, count); DEC on Fashion-MNIST after 20 and 50 epochs of layer-wise fine-tuning (seed 0),
    where the study has those runs."""

    def pick(dataset: str, recipe: str, epochs: int, seed: int | None = 0) -> pd.DataFrame:
        rows = study[(study["dataset"] == dataset) & (study["recipe"] == recipe) & (study["epochs"] == epochs)]
        if seed is not None:
            rows = rows[rows["seed"] == seed]
        return rows[rows[["dec", "idec"]].notna().all(axis=1)]

    out: dict[str, float] = {}  # plain floats: glue formats them with Python's format spec, not numpy's repr
    for recipe in ("plain", "sdae"):
        rows = pick("mnist", recipe, 50)
        if rows.empty:
            raise ValueError(
                f"the recipe study has no run with DEC and IDEC for mnist, {recipe}, 50 epochs, seed 0; "
                f"run `studies/{RECIPE_STUDY}.py`"
            )
        out[f"recipe_{recipe}50_ae"] = float(100 * rows.iloc[0]["ae_kmeans"])
        out[f"recipe_{recipe}50_dec"] = float(100 * rows.iloc[0]["dec"])
    seeds = pick("mnist", "sdae", 50, seed=None)
    for method in ("dec", "idec"):
        stats = mean_sd(100 * seeds[method].to_numpy())
        out[f"recipe_sdae50_{method}_mean"], out[f"recipe_sdae50_{method}_sd"] = stats.mean, stats.sd
    out["recipe_sdae50_seeds"] = float(len(seeds))
    for epochs in (20, 50):
        rows = pick("fashion_mnist", "sdae", epochs)
        if not rows.empty:
            out[f"recipe_fashion_sdae{epochs}_dec"] = float(100 * rows.iloc[0]["dec"])
    return out


def recipe_text(findings: dict[str, float]) -> str:
    """The method section's paragraph on the recipe study, written from `recipe_findings` (Markdown):
    which recipe gives DEC the better start on MNIST, the spread over seeds where there are several,
    and what the study says about Fashion-MNIST's setting."""
    plain, sdae = findings["recipe_plain50_dec"], findings["recipe_sdae50_dec"]
    better = "plain autoencoder" if plain > sdae else "layer-wise recipe"
    text = (
        f"Under a budget of a few dozen Adam epochs the {better} gives DEC the better start: on seed 0, DEC "
        f"reaches {plain:.1f} % on the plain autoencoder and {sdae:.1f} % on the layer-wise one (the greedy "
        "stage was made for the paper's long SGD schedule)."
    )
    n = int(findings["recipe_sdae50_seeds"])
    if n > 1:
        text += (
            f" Over {n} seeds the layer-wise recipe gives DEC {findings['recipe_sdae50_dec_mean']:.1f} ± "
            f"{findings['recipe_sdae50_dec_sd']:.1f} % and IDEC {findings['recipe_sdae50_idec_mean']:.1f} ± "
            f"{findings['recipe_sdae50_idec_sd']:.1f} % (sd with ddof = 1)."
        )
    text += " On Fashion-MNIST the full profile keeps the layer-wise recipe with 20 epochs of fine-tuning"
    f20, f50 = findings.get("recipe_fashion_sdae20_dec"), findings.get("recipe_fashion_sdae50_dec")
    if f20 is not None and f50 is not None:
        text += f": in the study DEC reaches {f20:.1f} % with it and {f50:.1f} % after 50 epochs (seed 0)"
    else:
        text += "; the study has no Fashion-MNIST comparison of 20 and 50 epochs yet"
    return text + ". The plain autoencoder is not measured on Fashion-MNIST."


# ----------------------------------------------------------------------------------------------
# Figures specific to this chapter
# ----------------------------------------------------------------------------------------------


def confidence_extremes(q: np.ndarray, n_per_cluster: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster, its `n_per_cluster` most confident members then its `n_per_cluster` least
    confident ones, all in decreasing confidence q_ij of the assigned cluster j (eq. 1).

    Returns flat (indices, cluster) arrays, ready for `plots.image_montage(images[indices], cluster,
    n_per_group=2 * n_per_cluster)`; a small cluster contributes each member once.
    """
    q = np.asarray(q)
    if q.ndim != 2 or n_per_cluster < 1:
        raise ValueError(f"q must be (n, k) and n_per_cluster ≥ 1, got {q.shape} and {n_per_cluster}")
    assigned = q.argmax(axis=1)
    conf = q.max(axis=1)
    idx: list[int] = []
    cluster: list[int] = []
    for j in range(q.shape[1]):
        members = np.flatnonzero(assigned == j)
        order = members[np.argsort(-conf[members], kind="stable")]
        chosen = np.concatenate([order[:n_per_cluster], order[max(n_per_cluster, len(order) - n_per_cluster) :]])
        idx.extend(chosen.tolist())
        cluster.extend([j] * len(chosen))
    return np.asarray(idx, dtype=int), np.asarray(cluster, dtype=int)


def plot_pretraining(pretrain: PretrainResult):
    """Loss per epoch of each greedy layer-wise stage and of the end-to-end fine-tuning (one panel
    when there was no layer-wise stage, `layerwise_epochs = 0`)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    layers = [(k, h.epoch_loss) for k, h in enumerate(pretrain.layer_histories) if h.epoch_loss]
    fig, axes = plt.subplots(1, 2 if layers else 1, figsize=(10 if layers else 5.5, 3.5), squeeze=False)
    axes = list(axes[0])
    if layers:
        for k, loss in layers:
            axes[0].plot(np.arange(1, len(loss) + 1), loss, marker="o", label=f"layer pair {k + 1}")
        axes[0].set(title="Greedy layer-wise denoising pretraining", xlabel="epoch", ylabel="MSE", yscale="log")
        axes[0].legend(fontsize=8)
    ft = pretrain.finetune_history.epoch_loss
    axes[-1].plot(np.arange(1, len(ft) + 1), ft, marker="o", color="C4")
    axes[-1].set(
        title="End-to-end fine-tuning" if layers else "End-to-end training (no layer-wise stage)",
        xlabel="epoch",
        ylabel="MSE",
    )
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


def plot_dec_progress(histories: dict[str, DECHistory], tol: float | None = None):
    """Per target update: accuracy (monitoring only), fraction of changed labels, clustering loss."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.5))
    for name, h in histories.items():
        if h.accuracy:
            axes[0].plot(h.iteration, h.accuracy, marker=".", label=name)
        axes[1].plot(h.iteration[1:], h.delta_label[1:], marker=".", label=name)
        axes[2].plot(h.iteration[1:], h.kl, marker=".", label=name)
    axes[0].set(title="Accuracy at each target update", xlabel="iteration", ylabel="accuracy")
    axes[1].set(title="Assignments changed since last update", xlabel="iteration", ylabel="fraction", yscale="log")
    if tol is not None:
        axes[1].axhline(tol, color="k", ls="--", lw=1, label=f"tol = {tol:g}")
    axes[2].set(title="KL(P‖Q), mean over each block of T iterations", xlabel="iteration", ylabel="KL")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
