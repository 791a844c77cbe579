"""Chapter 4, set-up B on SKAB: one-class monitors trained on each run's normal rows only.

The leaderboard's split (the first `train_rows` = 400 rows of a run are normal and used for fitting,
the rest is scored), made deployable: inside those 400 rows the first `fit_rows` train the network
and scale the channels, the last `train_rows - fit_rows` are held out and set the limit (the
`quantile` of the statistic on the held-out windows), so no limit is fitted on data the model was
trained on and nothing of the scored part is seen before scoring. Every decision is causal: a point
is scored by the window of `window` rows that ends at it.

Monitors, each an alarm when its statistic exceeds the held-out limit:

* ``ae_rec``: the reconstruction error of the conv autoencoder of Top-K DCCA trained with α = 0
  (no clustering loss), i.e. a plain conv AE on normal windows;
* ``dcca_rec``: the reconstruction error of Top-K DCCA trained on the same windows;
* ``dcca_latent``: T²+Q of Top-K DCCA's flattened latent maps (a PCA monitor fitted on the training
  windows' latents; its score max(T²/T²_α, Q/Q_α), limit from the held-out windows as above).

Every monitor also gets the post-processing policy of the TEP monitors (`tep_monitor`): the trailing
mean of its last `smoothing` statistics over the limit (``<monitor>_mean``, causal), an alarm when
that mean exceeds 1, so a single crossing no longer raises one. (Refitting the limit on smoothed
held-out statistics instead was measured and raised the false alarms: SKAB's scored parts drift
away from the held-out rows, and a smoothed statistic has a tighter limit.)

Scored with SKAB's point-wise F1, FAR and MAR (pooled over runs) and the ROC AUC of the statistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..anomaly.detection_metrics import skab_scores
from ..anomaly.monitoring import trailing_mean
from ..anomaly.pca_monitor import PCAMonitor
from ..metrics import roc_auc
from ..preprocess import ChannelScaler, sliding_windows, window_ends
from ..training.topk_dcca import TopKDCCA, TopKDCCAConfig
from ..utils import progress_bar

__all__ = [
    "SkabMonitorSetup",
    "SkabMonitorResult",
    "SKAB_MONITORS",
    "monitor_labels",
    "run_skab_monitors",
]

SKAB_MONITORS = {
    "ae_rec": "conv AE, α = 0 (normal rows only), reconstruction",
    "dcca_rec": "Top-K DCCA (normal rows only), reconstruction",
    "dcca_latent": "Top-K DCCA (normal rows only), latent T²+Q",
}


def monitor_labels(smoothing: int) -> dict[str, str]:
    """Every monitor's name in tables: the raw statistics of `SKAB_MONITORS`, then their smoothed variants."""
    return {**SKAB_MONITORS, **{f"{k}_mean": f"{v}, mean of {smoothing}" for k, v in SKAB_MONITORS.items()}}


@dataclass
class SkabMonitorSetup:
    """Windows, the split of each run's normal rows into fitting and limit rows, and the limit."""

    window: int = 32
    train_rows: int = 400  # the leaderboard's normal part of every run
    fit_rows: int = 300  # of those, fitted on; the rest hold the limit out
    quantile: float = 0.99
    pca_components: float | int = 0.85
    smoothing: int = 10  # the trailing-mean variants average this many statistics (10 s of SKAB's 1 Hz rows)
    experiments: Sequence[str] | None = None  # None → all 34 runs

    def __post_init__(self) -> None:
        if not 0.5 < self.quantile < 1.0:
            raise ValueError(f"quantile must lie in (0.5, 1), got {self.quantile}")
        if not self.window < self.fit_rows < self.train_rows:
            raise ValueError(
                f"need window < fit_rows < train_rows, got {self.window}, {self.fit_rows}, {self.train_rows}"
            )
        if self.train_rows - self.fit_rows < 2:
            raise ValueError("the held-out part needs at least two rows")
        if not 2 <= self.smoothing <= self.train_rows - self.fit_rows:
            raise ValueError(
                f"smoothing must lie in 2..{self.train_rows - self.fit_rows} (at most the held-out rows, "
                f"which its first means reach into), got {self.smoothing}"
            )


@dataclass
class SkabMonitorResult:
    """Per run: the scored labels, and per monitor its statistic over the limit (> 1 = alarm)."""

    setup: SkabMonitorSetup
    keys: list[str]
    y_test: list[np.ndarray]
    scores: dict[str, list[np.ndarray]]
    fit_seconds: float = 0.0  # training time of every network, as their checkpoints recorded it

    @property
    def labels(self) -> dict[str, str]:
        """Monitor → its name in tables."""
        return monitor_labels(self.setup.smoothing)

    def table(self) -> pd.DataFrame:
        """F1, FAR %, MAR % (SKAB's pooled point-wise scores) and ROC AUC per monitor."""
        rows = {}
        y_all = np.concatenate(self.y_test)
        labels = self.labels
        for name, per_run in self.scores.items():
            s = skab_scores(self.y_test, [(v > 1.0).astype(int) for v in per_run])
            rows[labels[name]] = {
                "F1": s["f1"],
                "FAR %": s["far"],
                "MAR %": s["mar"],
                "AUC": float(roc_auc(y_all, np.concatenate(per_run))),
            }
        return pd.DataFrame(rows).T

    def metrics(self) -> dict[str, float]:
        """`skab_mon_<monitor>_{f1,far,mar,auc}` for the results file (FAR and MAR in %)."""
        out: dict[str, float] = {}
        table = self.table()
        for name, label in self.labels.items():
            if label in table.index:
                row = table.loc[label]
                for col, key in (("F1", "f1"), ("FAR %", "far"), ("MAR %", "mar"), ("AUC", "auc")):
                    out[f"skab_mon_{name}_{key}"] = float(row[col])
        return out


def _limit(values: np.ndarray, q: float) -> float:
    limit = float(np.quantile(values, q))
    return limit if limit > 0 else float(np.finfo(np.float64).tiny)


def monitor_run(
    frame: pd.DataFrame,
    channels: Sequence[str],
    setup: SkabMonitorSetup,
    model_config: TopKDCCAConfig,
    *,
    seed: int = 0,
    device: str = "auto",
    checkpoint_name: str | None = None,
) -> tuple[dict[str, np.ndarray], float]:
    """The three monitors and their smoothed variants on one run: statistic / held-out limit for every
    scored row (row `train_rows` on), from the window that ends at it; and the two networks' training seconds."""
    L, n_fit, n_train = setup.window, setup.fit_rows, setup.train_rows
    if len(frame) <= n_train:
        raise ValueError(f"the run has {len(frame)} rows; need more than train_rows={n_train}")
    values = frame[list(channels)].to_numpy(dtype=np.float64)
    scaled = ChannelScaler().fit(values[:n_fit]).transform(values)
    windows = sliding_windows(scaled, L, 1)
    ends = window_ends(len(scaled), L, 1)
    fit_w = windows[ends < n_fit]
    later_w = windows[ends >= n_fit]  # the held-out windows, then the scored ones, in time order
    n_held = int(np.sum((ends >= n_fit) & (ends < n_train)))
    n = setup.smoothing
    stats: dict[str, np.ndarray] = {}
    models = {}
    for key, cfg in (("ae_rec", replace(model_config, alpha=0.0)), ("dcca_rec", model_config)):
        name = f"{checkpoint_name}-{key}" if checkpoint_name else None
        model = TopKDCCA(cfg, seed=seed, device=device, checkpoint_name=name).fit(fit_w)
        models[key] = model
        stats[key] = model.reconstruction_error(later_w)

    def latent(w: np.ndarray) -> np.ndarray:
        return models["dcca_rec"].transform(w).reshape(len(w), -1)

    pca = PCAMonitor(setup.pca_components, setup.quantile).fit(latent(fit_w))
    stats["dcca_latent"] = pca.score_samples(latent(later_w))
    out: dict[str, np.ndarray] = {}
    for key, stat in stats.items():
        scaled = stat / _limit(stat[:n_held], setup.quantile)  # > 1: an alarm at the held-out limit
        out[key] = scaled[n_held:]
        # TEP's policy: the mean of the last n scaled statistics (the first ones reach into the held-out rows)
        out[f"{key}_mean"] = trailing_mean(scaled, n)[n_held:]
    return out, float(sum(m.fit_seconds_ for m in models.values()))


def run_skab_monitors(
    data: Any,
    setup: SkabMonitorSetup,
    model_config: TopKDCCAConfig,
    *,
    seed: int = 0,
    device: str = "auto",
    checkpoint: bool = True,
    progress: bool = True,
) -> SkabMonitorResult:
    """`monitor_run` on every chosen run of `load_skab()`'s data."""
    keys = list(setup.experiments) if setup.experiments is not None else list(data.experiments)
    unknown = [k for k in keys if k not in data.experiments]
    if unknown:
        raise ValueError(f"unknown SKAB runs {unknown}; valid keys look like {list(data.experiments)[:3]}")
    ys: list[np.ndarray] = []
    scores: dict[str, list[np.ndarray]] = {name: [] for name in monitor_labels(setup.smoothing)}
    seconds = 0.0
    for key in progress_bar(keys, desc=f"SKAB monitors (seed {seed})", enabled=progress):
        frame = data.experiments[key]
        name = f"ch4-skab-monitor-{key.replace('/', '-')}-L{setup.window}" if checkpoint else None
        stats, fit_s = monitor_run(
            frame, data.channels, setup, model_config, seed=seed, device=device, checkpoint_name=name
        )
        seconds += fit_s
        ys.append(frame["anomaly"].to_numpy().astype(int)[setup.train_rows :])
        for monitor, v in stats.items():
            scores[monitor].append(v)
    return SkabMonitorResult(setup, keys, ys, scores, fit_seconds=seconds)
