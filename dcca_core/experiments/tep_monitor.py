"""Chapter 4, set-up B (monitoring), classical part: PCA and DPCA monitors of the Tennessee Eastman
process as a process engineer would deploy them, the bar any DCCA-derived detector has to clear.

Trained on normal operation only: every monitor is fitted on the fault-free training run d00 (500
samples); nothing of the test runs is seen before scoring. Decisions are causal: a sample's
statistic uses that sample and, for DPCA, its `lags` predecessors in the same run; the smoothed
variants average the last `smoothing` statistics. Two operating points:

* **deployable**: the theoretical 99 % limits (T²: F distribution; Q: Jackson–Mudholkar), alarm
  when max(T²/T²_α, Q/Q_α) > 1 — for the smoothed variants, when its trailing mean is;
* **5 % FAR** (oracle, a point on the ROC curve): the threshold that flags 5 % of d00_te, so that
  every detector is compared at the same false-alarm rate.

Reported per detector: the fault detection rate (FDR: flagged share of the fault-active samples,
160 on) per fault and its mean over the 21 faults and over the 18 without the hard faults 3, 9, 15;
the false-alarm rate on d00_te and on the 160 pre-fault samples of the faulty runs; the detection
delay (samples from the fault's start until `confirm` consecutive alarms; 1 sample = 3 min).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..anomaly.monitoring import decided_trailing_mean, detection_delay, lag_matrix, limit_at_far
from ..anomaly.pca_monitor import PCAMonitor
from ..preprocess import ChannelScaler, sliding_windows
from ..stats import Interval, unit_bootstrap
from ..training.topk_dcca import TopKDCCA, TopKDCCAConfig

__all__ = [
    "MonitorSetup",
    "MonitorResult",
    "run_tep_monitors",
    "add_deep_monitors",
    "per_fault_fdr",
    "best_fdr_difference",
    "MONITORS",
    "monitor_labels",
]

HARD_FAULTS = (3, 9, 15)
FAULT_START = 160  # Braatz test runs: the fault is introduced after sample 160


@dataclass
class MonitorSetup:
    """The monitors' settings; `pca_components` is the stated component rule (a share of d00's variance)."""

    pca_components: float | int = 0.85
    alpha: float = 0.99
    lags: int = 2
    smoothing: int = 10
    far: float = 0.05
    confirm: int = 3
    faults: Sequence[int] | None = None  # None → 1..21

    def __post_init__(self) -> None:
        if self.lags < 1 or self.smoothing < 2 or self.confirm < 1:
            raise ValueError(
                f"need lags ≥ 1, smoothing ≥ 2, confirm ≥ 1; got {self.lags}, {self.smoothing}, {self.confirm}"
            )


def monitor_labels(setup: MonitorSetup) -> dict[str, str]:
    """The classical monitors' names in tables, with the set-up's lags and trailing-mean length."""
    dpca = f"DPCA T²+Q ({setup.lags} lag{'' if setup.lags == 1 else 's'})"
    return {
        "pca": "PCA T²+Q",
        "pca_mean": f"PCA T²+Q, mean of {setup.smoothing}",
        "dpca": dpca,
        "dpca_mean": f"{dpca}, mean of {setup.smoothing}",
    }


MONITORS = monitor_labels(MonitorSetup())  # the classical monitors under the default set-up


@dataclass
class MonitorResult:
    """Per monitor and test run: its normalised statistic (> 1 = alarm at the deployable limit)."""

    setup: MonitorSetup
    faults: list[int]
    scores: dict[str, dict[int, np.ndarray]]  # monitor → run (0 = d00_te) → statistic per sample (NaN: none yet)
    n_components: dict[str, int]
    labels: dict[str, str] = field(default_factory=lambda: dict(MONITORS))  # monitor → its name in tables

    def _rates(self, name: str, threshold: float) -> dict[str, Any]:
        runs = self.scores[name]
        flagged = {r: np.where(np.isnan(s), np.nan, (s > threshold).astype(float)) for r, s in runs.items()}
        fdr = {f: float(np.nanmean(flagged[f][FAULT_START:])) for f in self.faults}
        delay = {f: detection_delay(flagged[f], FAULT_START, self.setup.confirm) for f in self.faults}
        delays = np.array(list(delay.values()))
        easy = [f for f in self.faults if f not in HARD_FAULTS]
        return {
            "fdr": fdr,
            "fdr_mean": float(np.mean(list(fdr.values()))),
            "fdr_wo_3_9_15": float(np.mean([fdr[f] for f in easy])) if easy else float("nan"),
            "far": float(np.nanmean(flagged[0])),
            "far_prefault": float(np.nanmean(np.concatenate([flagged[f][:FAULT_START] for f in self.faults]))),
            "delay": delay,
            "delay_median": float(np.nanmedian(delays)) if np.isfinite(delays).any() else float("nan"),
        }

    def at_limit(self, name: str) -> dict[str, Any]:
        """Rates at the deployable limit (normalised statistic > 1)."""
        return self._rates(name, 1.0)

    def at_far(self, name: str) -> dict[str, Any]:
        """Rates at the threshold flagging `setup.far` of d00_te (the oracle operating point)."""
        return self._rates(name, limit_at_far(self.scores[name][0], self.setup.far))

    def table(self) -> pd.DataFrame:
        """One row per monitor: both operating points; FAR in %, delays in samples (3 min each)."""
        pct = round(100 * self.setup.far)
        rows = {}
        for name, label in self.labels.items():
            lim, far = self.at_limit(name), self.at_far(name)
            rows[label] = {
                "FDR mean (limit)": lim["fdr_mean"],
                "FAR d00_te % (limit)": 100 * lim["far"],
                "FAR pre-fault % (limit)": 100 * lim["far_prefault"],
                "median delay (limit)": lim["delay_median"],
                f"FDR mean @{pct}% FAR": far["fdr_mean"],
                f"FDR w/o 3,9,15 @{pct}% FAR": far["fdr_wo_3_9_15"],
                f"median delay @{pct}% FAR": far["delay_median"],
            }
        return pd.DataFrame(rows).T

    def per_fault(self) -> pd.DataFrame:
        """FDR per fault at the oracle operating point, one column per monitor."""
        return pd.DataFrame({label: self.at_far(m)["fdr"] for m, label in self.labels.items()})

    def metrics(self) -> dict[str, float]:
        """`tep_<monitor>_monitor_*` for the results file (the DPCA headline: `tep_dpca_fdr_at_far5`); detection
        rates as fractions, false-alarm rates in % (as SKAB's, one unit per metric across the book)."""
        out: dict[str, float] = {}
        for name in self.labels:
            lim, far = self.at_limit(name), self.at_far(name)
            out[f"tep_{name}_fdr_at_far5"] = far["fdr_mean"]
            out[f"tep_{name}_fdr_wo_3_9_15_at_far5"] = far["fdr_wo_3_9_15"]
            out[f"tep_{name}_delay_at_far5"] = far["delay_median"]
            out[f"tep_{name}_monitor_fdr"] = lim["fdr_mean"]
            out[f"tep_{name}_monitor_far"] = 100 * lim["far"]
            out[f"tep_{name}_monitor_far_prefault"] = 100 * lim["far_prefault"]
            out[f"tep_{name}_monitor_delay"] = lim["delay_median"]
        return out


def _per_run(X: np.ndarray, runs: np.ndarray, keep: Sequence[int], statistic: Callable[[np.ndarray], np.ndarray]):
    return {int(r): statistic(X[runs == r]) for r in keep}


def run_tep_monitors(data: Any, setup: MonitorSetup) -> MonitorResult:
    """Fit PCA and DPCA on d00 and score every test run (see the module docstring)."""
    faults = list(setup.faults) if setup.faults is not None else list(range(1, 22))
    if not faults or any(f not in range(1, 22) for f in faults):
        raise ValueError(f"faults must be a non-empty subset of 1..21, got {faults}")
    normal = data.train_X[data.train_run == 0]
    keep = [0, *faults]
    pca = PCAMonitor(setup.pca_components, setup.alpha).fit(normal)
    dpca = PCAMonitor(setup.pca_components, setup.alpha).fit(lag_matrix(normal, setup.lags))

    def dynamic(rows: np.ndarray) -> np.ndarray:
        return np.concatenate([np.full(setup.lags, np.nan), dpca.score_samples(lag_matrix(rows, setup.lags))])

    raw = _per_run(data.test_X, data.test_run, keep, pca.score_samples)
    dyn = _per_run(data.test_X, data.test_run, keep, dynamic)
    scores = {
        "pca": raw,
        "pca_mean": {r: decided_trailing_mean(s, setup.smoothing) for r, s in raw.items()},
        "dpca": dyn,
        "dpca_mean": {r: decided_trailing_mean(s, setup.smoothing) for r, s in dyn.items()},
    }
    n_components = {"pca": pca.n_components_, "dpca": dpca.n_components_}
    return MonitorResult(setup, faults, scores, n_components, labels=monitor_labels(setup))


def add_deep_monitors(
    result: MonitorResult,
    data: Any,
    model_config: TopKDCCAConfig,
    *,
    window: int = 30,
    seed: int = 0,
    device: str = "auto",
    checkpoint: bool = True,
) -> dict[str, TopKDCCA]:
    """DCCA as a one-class monitor, beside the same network without the clustering loss (α = 0).

    Both are trained on d00's windows only (scaled with d00's mean and std). Statistics per test
    sample, from the window ending at it: the reconstruction error, and for DCCA also T²+Q of its
    flattened latent maps (a PCA monitor fitted on d00's latents). Each is divided by its 99 %
    quantile on d00's windows, so > 1 is the deployable alarm, and gets a mean-of-`smoothing`
    variant. Adds the monitors to `result` in place; returns the two fitted models.
    """
    setup = result.setup
    normal = data.train_X[data.train_run == 0]
    scaler = ChannelScaler().fit(normal)
    normal_w = sliding_windows(scaler.transform(normal), window, 1)
    keep = [0, *result.faults]
    test_w = {int(r): sliding_windows(scaler.transform(data.test_X[data.test_run == r]), window, 1) for r in keep}
    pad = np.full(window - 1, np.nan)
    models: dict[str, TopKDCCA] = {}
    variants = {
        "ae": ("conv AE (normal data), reconstruction", replace(model_config, alpha=0.0)),
        "dcca": ("Top-K DCCA (normal data), reconstruction", model_config),
    }
    for key, (label, cfg) in variants.items():
        name = f"ch4-tep-monitor-{key}-L{window}" if checkpoint else None
        model = TopKDCCA(cfg, seed=seed, device=device, checkpoint_name=name).fit(normal_w)
        models[key] = model
        limit = float(np.quantile(model.reconstruction_error(normal_w), setup.alpha))
        stats = {r: np.concatenate([pad, model.reconstruction_error(w) / limit]) for r, w in test_w.items()}
        result.scores[f"{key}_rec"] = stats
        result.labels[f"{key}_rec"] = label
        result.scores[f"{key}_rec_mean"] = {r: decided_trailing_mean(v, setup.smoothing) for r, v in stats.items()}
        result.labels[f"{key}_rec_mean"] = f"{label}, mean of {setup.smoothing}"
    dcca = models["dcca"]
    latent = PCAMonitor(setup.pca_components, setup.alpha).fit(dcca.transform(normal_w).reshape(len(normal_w), -1))
    result.n_components["dcca_latent"] = latent.n_components_
    stats = {
        r: np.concatenate([pad, latent.score_samples(dcca.transform(w).reshape(len(w), -1))]) for r, w in test_w.items()
    }
    result.scores["dcca_latent"] = stats
    result.labels["dcca_latent"] = "Top-K DCCA (normal data), latent T²+Q"
    result.scores["dcca_latent_mean"] = {r: decided_trailing_mean(v, setup.smoothing) for r, v in stats.items()}
    result.labels["dcca_latent_mean"] = f"Top-K DCCA (normal data), latent T²+Q, mean of {setup.smoothing}"
    return models


def per_fault_fdr(results: Sequence[MonitorResult], name: str) -> np.ndarray:
    """FDR per fault at the oracle 5 %-FAR point of monitor `name`, averaged over the seeds' results."""
    if not results:
        raise ValueError("need at least one MonitorResult")
    faults = results[0].faults
    if any(r.faults != faults for r in results):
        raise ValueError("the results cover different faults; pair them on the same faults")
    return np.mean([[r.at_far(name)["fdr"][f] for f in faults] for r in results], axis=0)


def best_fdr_difference(
    results: Sequence[MonitorResult],
    candidates: Sequence[str],
    b: str,
    *,
    level: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[str, Interval]:
    """The best of `candidates` (highest mean FDR at 5 % FAR) minus monitor `b`, with a bootstrap
    interval over faults in which the best candidate is chosen again in every resample, so the
    interval accounts for picking the winner on the same faults. Returns (the best candidate on all
    faults, the interval)."""
    if not candidates:
        raise ValueError("need at least one candidate monitor")
    rates = np.array([per_fault_fdr(results, c) for c in candidates])  # candidates × faults
    base = per_fault_fdr(results, b)

    def difference(units: np.ndarray) -> float:
        return float(rates[:, units].mean(axis=1).max() - base[units].mean())

    best = candidates[int(np.argmax(rates.mean(axis=1)))]
    return best, unit_bootstrap(len(base), difference, level=level, n_resamples=n_resamples, seed=seed)
