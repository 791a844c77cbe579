"""Chapter 4, set-up A: Top-K DCCA on the Tennessee Eastman data as the reference ran it, evaluated
the reference's way and then with the labels and controls that say what its numbers mean.

The reference's protocol (`../shared/references/dcca_reference_audit.md`, §1.1): Braatz TEP, all 52
variables, windows of L = 30 cut inside each run with stride 1, trained on the *unlabelled mix* of
all 22 training runs (d00 and d01–d21, so 95 % of the windows are faulty), per-kernel Hungarian
ACC/NMI/ARI on the test windows. Two of its choices are defects kept here as options only:
`scaling="reference"` min–max scales each split by its own extremes (the test set by its own), and
its labels call every sample of a faulty test run faulty, the 160 before the fault starts too.
We scale both splits with the training split's extremes and report both label sets side by side:
"reference" (run > 0) and "fault_active" (the fault has started).

Beside every number: the majority rate of the labels, and k = 2 on the raw windows with no network
at all (transductive, as the reference's refit), with the runs its smaller cluster holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from ..cluster import KMeans
from ..metrics import ari, cluster_accuracy, nmi
from ..models.topk_dcca import nearest_kernel_centers, per_kernel_kmeans
from ..preprocess import sliding_windows, window_labels
from ..training.topk_dcca import TopKDCCA, TopKDCCAConfig
from ..utils import Timer

__all__ = [
    "ReferenceSetup",
    "variant_setup",
    "kernel_evaluation",
    "random_subset_p",
    "ReferenceResult",
    "run_tep_reference",
    "reference_table",
    "ablation_table",
    "plot_kernel_accuracy",
    "LABEL_SETS",
]

SCALINGS = ("train", "reference")
VARIABLE_SETS = ("all", "no_analysers")
# XMEAS(1..22) and XMV(1..11): the continuously measured variables, without the sampled analysers
NO_ANALYSERS = list(range(22)) + list(range(41, 52))


def tep_columns(variables: str, n_columns: int) -> list[int]:
    """Column indices of a TEP variable set: "all" of them, or "no_analysers" (33 of the 52)."""
    if variables not in VARIABLE_SETS:
        raise ValueError(f"variables must be one of {VARIABLE_SETS}, got {variables!r}")
    if variables == "all":
        return list(range(n_columns))
    if n_columns != 52:
        raise ValueError(f"variables='no_analysers' needs the 52 TEP variables, got {n_columns} columns")
    return NO_ANALYSERS


LABEL_SETS = {"reference": "run > 0 (the reference's)", "fault_active": "fault started"}


@dataclass
class ReferenceSetup:
    """Set-up A: the reference's TEP protocol (window 30, stride 1, the 22-run training mix)."""

    window: int = 30
    scaling: str = "train"
    variables: str = "all"  # "all" 52, or "no_analysers": XMEAS 1-22 + XMV 1-11 (33, the sampled analysers dropped)
    raw_kmeans_n_init: int = 10
    model: TopKDCCAConfig = field(default_factory=TopKDCCAConfig)

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = TopKDCCAConfig(**self.model)
        if self.scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}, got {self.scaling!r}")
        if self.variables not in VARIABLE_SETS:
            raise ValueError(f"variables must be one of {VARIABLE_SETS}, got {self.variables!r}")


def variant_setup(base: ReferenceSetup, overrides: Mapping[str, Any]) -> ReferenceSetup:
    """`base` with `overrides` applied: keys naming a set-up field (window, variables, scaling) change
    the set-up, the others the model config (masking, α, K, ...), so one dict describes any ablation."""
    own = {f.name for f in fields(ReferenceSetup)} - {"model"}
    setup_keys = {k: v for k, v in overrides.items() if k in own}
    model_keys = {k: v for k, v in overrides.items() if k not in own}
    unknown = set(model_keys) - {f.name for f in fields(TopKDCCAConfig)}
    if unknown:
        raise ValueError(f"unknown ablation keys {sorted(unknown)}: not a set-up field {sorted(own)} nor a model field")
    return replace(base, **setup_keys, model=replace(base.model, **model_keys))


@dataclass
class ReferenceResult:
    """The fitted model, the reference's evaluation per label set, the raw-window control."""

    setup: ReferenceSetup
    model: TopKDCCA
    evaluation: dict[str, dict[str, Any]]  # label set → kernel_evaluation report
    raw_kmeans: dict[str, float]  # label set → ACC of k = 2 on the raw test windows
    raw_minority_runs: dict[int, float]  # test run → share of its windows in the raw control's smaller cluster
    n_train_windows: int
    n_test_windows: int
    seconds: float

    def metrics(self) -> dict[str, float]:
        """Flat metrics for the results file: `tep_topk_<labels>_<reading>_acc`, ρ, the raw control."""
        out: dict[str, float] = {}
        for name, r in self.evaluation.items():
            out[f"tep_topk_{name}_topk_acc"] = r["acc_topk_mean"]
            out[f"tep_topk_{name}_topk_refit_acc"] = r["acc_topk_mean_refit"]
            out[f"tep_topk_{name}_oracle_acc"] = r["acc_oracle_kernel"]
            out[f"tep_topk_{name}_majority_acc"] = r["majority_rate"]
            out[f"tep_topk_{name}_spearman"] = r["spearman_distance_acc"]
            out[f"tep_topk_{name}_spearman_first"] = r["spearman_first_distance_acc"]
            out[f"tep_topk_{name}_random_k_p"] = r["random_k_p"]
            out[f"tep_raw_kmeans_{name}_acc"] = self.raw_kmeans[name]
        out["tep_topk_fit_seconds"] = float(self.model.fit_seconds_)
        return out


def _minmax(fit_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = fit_rows.min(axis=0), fit_rows.max(axis=0)
    return lo, np.where(hi > lo, hi - lo, 1.0)


def _windows(X: np.ndarray, runs: np.ndarray, lo: np.ndarray, span: np.ndarray, length: int):
    parts, ids = [], []
    for r in np.unique(runs):
        rows = X[runs == r]
        parts.append(sliding_windows((rows - lo) / span, length, 1))
        ids.append(np.full(len(parts[-1]), r))
    return np.concatenate(parts), np.concatenate(ids)


def run_tep_reference(
    data: Any,
    setup: ReferenceSetup,
    *,
    seed: int = 0,
    device: str = "auto",
    checkpoint: bool = True,
    progress: bool = False,
) -> ReferenceResult:
    """Fit Top-K DCCA on the unlabelled TEP training mix and evaluate it as the reference did."""
    with Timer() as timer:
        L = setup.window
        cols = tep_columns(setup.variables, data.train_X.shape[1])
        train_X, test_X = data.train_X[:, cols], data.test_X[:, cols]
        train_lo, train_span = _minmax(train_X)
        test_lo, test_span = _minmax(test_X) if setup.scaling == "reference" else (train_lo, train_span)
        fit_w, _ = _windows(train_X, data.train_run, train_lo, train_span, L)
        test_w, test_run = _windows(test_X, data.test_run, test_lo, test_span, L)
        active = np.concatenate(
            [
                window_labels(data.test_fault_active[data.test_run == r].astype(int), L, 1, "last")
                for r in np.unique(data.test_run)
            ]
        )
        labels = {"reference": (test_run > 0).astype(int), "fault_active": active}
        tag = "" if setup.variables == "all" else f"-{setup.variables}"
        name = f"ch4-tep-reference-{setup.scaling}-L{L}{tag}" if checkpoint else None
        model = TopKDCCA(setup.model, seed=seed, device=device, checkpoint_name=name, progress=progress).fit(fit_w)
        evaluation = kernel_evaluation(model, test_w, labels)
        raw = KMeans(n_clusters=2, n_init=setup.raw_kmeans_n_init, random_state=seed, device=device)
        raw_labels = np.asarray(raw.fit(test_w.reshape(len(test_w), -1)).labels_)
        minority = int(np.argmin(np.bincount(raw_labels, minlength=2)))
        raw_acc = {k: cluster_accuracy(y, raw_labels) for k, y in labels.items()}
        shares = {int(r): float((raw_labels[test_run == r] == minority).mean()) for r in np.unique(test_run)}
    return ReferenceResult(setup, model, evaluation, raw_acc, shares, len(fit_w), len(test_w), timer.seconds)


def random_subset_p(scores: Any, chosen: Any, *, n_draws: int = 10_000, seed: int = 0) -> float:
    """Share of random kernel sets of the chosen set's size whose mean score is at least the chosen
    set's: a one-sided permutation p-value (+1 smoothed) for "the ranking picks better kernels than
    chance". NaN when every kernel, or none, is chosen."""
    values, mask = np.asarray(scores, dtype=np.float64), np.asarray(chosen, dtype=bool)
    if values.shape != mask.shape or values.ndim != 1:
        raise ValueError(f"scores and chosen must be 1-d of one length, got {values.shape} and {mask.shape}")
    k, n = int(mask.sum()), len(values)
    if k in (0, n):
        return float("nan")
    draws = np.argsort(np.random.default_rng(seed).random((n_draws, n)), axis=1)[:, :k]
    at_least = int((values[draws].mean(axis=1) >= values[mask].mean() - 1e-12).sum())
    return (at_least + 1) / (n_draws + 1)


def kernel_evaluation(
    model: TopKDCCA, X: Any, label_sets: Mapping[str, Any], *, refit: bool = True
) -> dict[str, dict[str, Any]]:
    """The reference's evaluation, kernel by kernel, on windows X, for each named set of 0/1 labels.

    Per kernel: Hungarian ACC, NMI and ARI of the nearer *training* centre (inductive) and, with
    `refit`, of k-means refit on X's own maps (the reference's `training_predictions`, transductive).
    Then the Top-K kernels by centre distance (unsupervised) against the single kernel chosen by its
    label ACC (an oracle: it looks at the labels), Spearman's ρ between centre distance and ACC (does
    the ranking find the kernels that separate?) for the final ranking and for the first one (right
    after the P+1 pretraining epochs: did the early ranking already point at them?), the share of random K-kernel sets whose mean ACC
    is at least the Top-K's (`random_k_p`: does the ranking beat chance?), and the majority rate.
    """
    from scipy.stats import spearmanr

    maps = model.transform(X)
    inductive = nearest_kernel_centers(torch.from_numpy(maps), torch.as_tensor(model.centers_)).numpy()
    refit_labels = None
    if refit:
        _, refit_labels = per_kernel_kmeans(
            maps, n_init=model.config.kmeans_n_init, random_state=model.seed, device=model.device
        )
    topk = np.isin(np.arange(maps.shape[1]), model.clustering_kernels_)
    updates = model.history_.updates
    first = updates[0]["distances"] if updates else model.kernel_distances_  # the ranking at P+1
    reports = {}
    for name, labels in label_sets.items():
        y = np.asarray(labels).ravel().astype(np.int64)
        if len(y) != len(maps):
            raise ValueError(f"labels {name!r} hold {len(y)} values for {len(maps)} windows")
        rows = []
        for k in range(maps.shape[1]):
            row = {
                "kernel": k,
                "distance": float(model.kernel_distances_[k]),
                "topk": bool(topk[k]),
                "acc": cluster_accuracy(y, inductive[:, k]),
                "nmi": nmi(y, inductive[:, k]),
                "ari": ari(y, inductive[:, k]),
            }
            if refit_labels is not None:
                row.update(
                    acc_refit=cluster_accuracy(y, refit_labels[:, k]),
                    nmi_refit=nmi(y, refit_labels[:, k]),
                    ari_refit=ari(y, refit_labels[:, k]),
                )
            rows.append(row)
        acc = np.array([r["acc"] for r in rows])
        report: dict[str, Any] = {
            "kernels": rows,
            "acc_topk_mean": float(acc[topk].mean()),
            "acc_rest_mean": float(acc[~topk].mean()) if (~topk).any() else float("nan"),
            "acc_top1_by_distance": float(acc[int(np.argmax(model.kernel_distances_))]),
            "acc_oracle_kernel": float(acc.max()),  # chosen with the labels: not an unsupervised result
            "oracle_kernel": int(acc.argmax()),
            "spearman_distance_acc": float(spearmanr(model.kernel_distances_, acc).statistic),
            "spearman_first_distance_acc": float(spearmanr(first, acc).statistic),
            "random_k_p": random_subset_p(acc, topk, seed=model.seed),
            "majority_rate": float(np.bincount(y).max() / len(y)),
        }
        if refit_labels is not None:
            acc_refit = np.array([r["acc_refit"] for r in rows])
            report["acc_topk_mean_refit"] = float(acc_refit[topk].mean())
            report["acc_oracle_kernel_refit"] = float(acc_refit.max())
        reports[name] = report
    return reports


def reference_table(result: ReferenceResult) -> pd.DataFrame:
    """The reference's numbers and what they are worth: one row per reading, one column per label set."""
    rows = {
        "Top-K kernels, mean ACC (training centres)": "acc_topk_mean",
        "Top-K kernels, mean ACC (k-means refit on test, as the reference)": "acc_topk_mean_refit",
        "the other kernels, mean ACC (training centres)": "acc_rest_mean",
        "top-1 kernel by centre distance, ACC": "acc_top1_by_distance",
        "best single kernel chosen with the labels (oracle), ACC": "acc_oracle_kernel",
        "Spearman ρ (centre distance, kernel ACC)": "spearman_distance_acc",
        "Spearman ρ of the first ranking (after P+1 epochs) with the final kernels' ACC": "spearman_first_distance_acc",
        "share of random K-kernel sets at least as good as the Top-K (p)": "random_k_p",
        "majority class (no model), ACC": "majority_rate",
    }
    table = {
        LABEL_SETS[name]: {row: report[key] for row, key in rows.items()} for name, report in result.evaluation.items()
    }
    for name, acc in result.raw_kmeans.items():
        table[LABEL_SETS[name]]["k = 2 on the raw test windows (no network), ACC"] = acc
    return pd.DataFrame(table)


def ablation_table(results: dict[str, ReferenceResult], labels: str = "fault_active") -> pd.DataFrame:
    """One row per variant (masking, α, K, window, variables): the reference's readings under `labels`."""
    rows = {}
    for name, res in results.items():
        r = res.evaluation[labels]
        rows[name] = {
            "Top-K mean ACC": r["acc_topk_mean"],
            "other kernels mean ACC": r["acc_rest_mean"],
            "oracle kernel ACC": r["acc_oracle_kernel"],
            "Spearman ρ": r["spearman_distance_acc"],
            "Spearman ρ, first ranking": r["spearman_first_distance_acc"],
            "p (random K)": r["random_k_p"],
            "final L_R": res.model.history_.epochs[-1]["rec"],
            "fit s": res.model.fit_seconds_,
        }
    return pd.DataFrame(rows).T


def plot_kernel_accuracy(result: ReferenceResult) -> Figure:
    """Per kernel: centre distance (the ranking's criterion) against its ACC, one panel per label
    set; Top-K kernels filled, the majority rate dashed, the label-chosen kernel ringed."""
    fig, axes = plt.subplots(1, len(result.evaluation), figsize=(9, 3.6), sharex=True, squeeze=False)
    for ax, (name, report) in zip(axes[0], result.evaluation.items(), strict=True):
        d = np.array([k["distance"] for k in report["kernels"]])
        acc = np.array([k["acc"] for k in report["kernels"]])
        top = np.array([k["topk"] for k in report["kernels"]])
        ax.scatter(d[~top], acc[~top], s=14, facecolors="none", edgecolors="0.45", label="other kernels")
        ax.scatter(d[top], acc[top], s=14, color="C0", label="Top-K kernels")
        o = report["oracle_kernel"]
        ax.scatter([d[o]], [acc[o]], s=90, facecolors="none", edgecolors="C3", lw=1.5, label="chosen with labels")
        ax.axhline(report["majority_rate"], color="k", ls="--", lw=1, label="majority class")
        ax.set_title(f"labels: {LABEL_SETS[name]}")
        ax.set_xlabel("distance between the kernel's two centres")
    axes[0][0].set_ylabel("kernel ACC (training centres)")
    axes[0][-1].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
