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
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..anomaly.monitoring import detection_delay, lag_matrix, limit_at_far, trailing_mean
from ..anomaly.pca_monitor import PCAMonitor

__all__ = ["MonitorSetup", "MonitorResult", "run_tep_monitors", "MONITORS", "setup_dict"]

HARD_FAULTS = (3, 9, 15)
FAULT_START = 160  # Braatz test runs: the fault is introduced after sample 160
MONITORS = {
    "pca": "PCA T²+Q",
    "pca_mean": "PCA T²+Q, mean of 10",
    "dpca": "DPCA T²+Q (2 lags)",
    "dpca_mean": "DPCA T²+Q (2 lags), mean of 10",
}


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


@dataclass
class MonitorResult:
    """Per monitor and test run: its normalised statistic (> 1 = alarm at the deployable limit)."""

    setup: MonitorSetup
    faults: list[int]
    scores: dict[str, dict[int, np.ndarray]]  # monitor → run (0 = d00_te) → statistic per sample (NaN: none yet)
    n_components: dict[str, int]

    def _rates(self, name: str, threshold: float) -> dict[str, Any]:
        runs = self.scores[name]
        flagged = {r: np.where(np.isnan(s), np.nan, (s > threshold).astype(float)) for r, s in runs.items()}
        fdr = {f: float(np.nanmean(flagged[f][FAULT_START:])) for f in self.faults}
        delay = {f: detection_delay(flagged[f], FAULT_START, self.setup.confirm) for f in self.faults}
        easy = [f for f in self.faults if f not in HARD_FAULTS]
        return {
            "fdr": fdr,
            "fdr_mean": float(np.mean(list(fdr.values()))),
            "fdr_wo_3_9_15": float(np.mean([fdr[f] for f in easy])) if easy else float("nan"),
            "far": float(np.nanmean(flagged[0])),
            "far_prefault": float(np.nanmean(np.concatenate([flagged[f][:FAULT_START] for f in self.faults]))),
            "delay": delay,
            "delay_median": float(np.nanmedian(list(delay.values())))
            if any(np.isfinite(list(delay.values())))
            else float("nan"),
        }

    def at_limit(self, name: str) -> dict[str, Any]:
        """Rates at the deployable limit (normalised statistic > 1)."""
        return self._rates(name, 1.0)

    def at_far(self, name: str) -> dict[str, Any]:
        """Rates at the threshold flagging `setup.far` of d00_te (the oracle operating point)."""
        return self._rates(name, limit_at_far(self.scores[name][0], self.setup.far))

    def table(self) -> pd.DataFrame:
        """One row per monitor: both operating points; delays in samples (3 min each)."""
        pct = round(100 * self.setup.far)
        rows = {}
        for name, label in MONITORS.items():
            lim, far = self.at_limit(name), self.at_far(name)
            rows[label] = {
                "FDR mean (limit)": lim["fdr_mean"],
                "FAR d00_te (limit)": lim["far"],
                "FAR pre-fault (limit)": lim["far_prefault"],
                "median delay (limit)": lim["delay_median"],
                f"FDR mean @{pct}% FAR": far["fdr_mean"],
                f"FDR w/o 3,9,15 @{pct}% FAR": far["fdr_wo_3_9_15"],
                f"median delay @{pct}% FAR": far["delay_median"],
            }
        return pd.DataFrame(rows).T

    def per_fault(self) -> pd.DataFrame:
        """FDR per fault at the oracle operating point, one column per monitor."""
        return pd.DataFrame({MONITORS[m]: self.at_far(m)["fdr"] for m in MONITORS})

    def metrics(self) -> dict[str, float]:
        """`tep_<monitor>_monitor_*` for the results file (the DPCA headline: `tep_dpca_fdr_at_far5`)."""
        out: dict[str, float] = {}
        for name in MONITORS:
            lim, far = self.at_limit(name), self.at_far(name)
            out[f"tep_{name}_fdr_at_far5"] = far["fdr_mean"]
            out[f"tep_{name}_fdr_wo_3_9_15_at_far5"] = far["fdr_wo_3_9_15"]
            out[f"tep_{name}_delay_at_far5"] = far["delay_median"]
            out[f"tep_{name}_monitor_fdr"] = lim["fdr_mean"]
            out[f"tep_{name}_monitor_far"] = lim["far"]
            out[f"tep_{name}_monitor_far_prefault"] = lim["far_prefault"]
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

    def smoothed(stat: np.ndarray) -> np.ndarray:
        start = int(np.isnan(stat).sum())  # the undecided first samples (DPCA's lags)
        return np.concatenate([stat[:start], trailing_mean(stat[start:], setup.smoothing)])

    raw = _per_run(data.test_X, data.test_run, keep, pca.score_samples)
    dyn = _per_run(data.test_X, data.test_run, keep, dynamic)
    scores = {
        "pca": raw,
        "pca_mean": {r: smoothed(s) for r, s in raw.items()},
        "dpca": dyn,
        "dpca_mean": {r: smoothed(s) for r, s in dyn.items()},
    }
    return MonitorResult(setup, faults, scores, {"pca": pca.n_components_, "dpca": dpca.n_components_})


def setup_dict(setup: MonitorSetup) -> dict[str, Any]:
    """The set-up as plain values, for the results file."""
    return asdict(setup)
