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

from dataclasses import asdict, dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..cluster import KMeans
from ..metrics import cluster_accuracy
from ..preprocess import sliding_windows, window_labels
from ..training.topk_dcca import TopKDCCA, TopKDCCAConfig, kernel_evaluation
from ..utils import Timer

__all__ = [
    "setup_dict",
    "ReferenceSetup",
    "ReferenceResult",
    "run_tep_reference",
    "reference_table",
    "ablation_table",
    "plot_kernel_accuracy",
    "LABEL_SETS",
]

SCALINGS = ("train", "reference")
LABEL_SETS = {"reference": "run > 0 (the reference's)", "fault_active": "fault started"}


@dataclass
class ReferenceSetup:
    """Set-up A: the reference's TEP protocol (window 30, stride 1, the 22-run training mix)."""

    window: int = 30
    scaling: str = "train"
    raw_kmeans_n_init: int = 10
    model: TopKDCCAConfig = field(default_factory=TopKDCCAConfig)

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = TopKDCCAConfig(**self.model)
        if self.scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}, got {self.scaling!r}")


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
        train_lo, train_span = _minmax(data.train_X)
        test_lo, test_span = _minmax(data.test_X) if setup.scaling == "reference" else (train_lo, train_span)
        fit_w, _ = _windows(data.train_X, data.train_run, train_lo, train_span, L)
        test_w, test_run = _windows(data.test_X, data.test_run, test_lo, test_span, L)
        active = np.concatenate(
            [
                window_labels(data.test_fault_active[data.test_run == r].astype(int), L, 1, "last")
                for r in np.unique(data.test_run)
            ]
        )
        labels = {"reference": (test_run > 0).astype(int), "fault_active": active}
        name = f"ch4-tep-reference-{setup.scaling}-L{L}" if checkpoint else None
        model = TopKDCCA(setup.model, seed=seed, device=device, checkpoint_name=name, progress=progress).fit(fit_w)
        evaluation = kernel_evaluation(model, test_w, labels)
        raw = KMeans(n_clusters=2, n_init=setup.raw_kmeans_n_init, random_state=seed, device=device)
        raw_labels = np.asarray(raw.fit(test_w.reshape(len(test_w), -1)).labels_)
        minority = int(np.argmin(np.bincount(raw_labels, minlength=2)))
        raw_acc = {k: cluster_accuracy(y, raw_labels) for k, y in labels.items()}
        shares = {int(r): float((raw_labels[test_run == r] == minority).mean()) for r in np.unique(test_run)}
    return ReferenceResult(setup, model, evaluation, raw_acc, shares, len(fit_w), len(test_w), timer.seconds)


def reference_table(result: ReferenceResult) -> pd.DataFrame:
    """The reference's numbers and what they are worth: one row per reading, one column per label set."""
    rows = {
        "Top-K kernels, mean ACC (training centres)": "acc_topk_mean",
        "Top-K kernels, mean ACC (k-means refit on test, as the reference)": "acc_topk_mean_refit",
        "the other kernels, mean ACC (training centres)": "acc_rest_mean",
        "top-1 kernel by centre distance, ACC": "acc_top1_by_distance",
        "best single kernel chosen with the labels (oracle), ACC": "acc_oracle_kernel",
        "Spearman ρ (centre distance, kernel ACC)": "spearman_distance_acc",
        "majority class (no model), ACC": "majority_rate",
    }
    table = {
        LABEL_SETS[name]: {row: report[key] for row, key in rows.items()} for name, report in result.evaluation.items()
    }
    for name, acc in result.raw_kmeans.items():
        table[LABEL_SETS[name]]["k = 2 on the raw test windows (no network), ACC"] = acc
    return pd.DataFrame(table)


def ablation_table(results: dict[str, ReferenceResult], labels: str = "fault_active") -> pd.DataFrame:
    """One row per variant (masking, α, …): what the reference's readings give under `labels`."""
    rows = {}
    for name, res in results.items():
        r = res.evaluation[labels]
        rows[name] = {
            "Top-K mean ACC": r["acc_topk_mean"],
            "other kernels mean ACC": r["acc_rest_mean"],
            "oracle kernel ACC": r["acc_oracle_kernel"],
            "Spearman ρ": r["spearman_distance_acc"],
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


def setup_dict(setup: ReferenceSetup) -> dict[str, Any]:
    """The set-up as plain values, for the results file."""
    return asdict(setup)
