"""SKAB's Conv-AE leaderboard detector (F1 0.78, FAR 13.55 %, MAR 28.02 %), reproduced, and its
decision made causal.

The recipe of waico/SKAB at b2c0d46 (`core/Conv_AE.py`, `notebooks/Conv_AE.ipynb`), per run:
standardise with the first 400 rows (scikit-learn's `StandardScaler`); windows of N = 60 rows with
stride 1; the network of `models.skab_conv_ae` trained on the training windows with MSE, Adam
(lr 1e-3, Keras' ε = 1e-7), batch 32, at most 100 epochs, the last 10 % of the windows held out
for early stopping (patience 5, the final weights kept); the residual of a window is its absolute
error averaged over time and summed over channels; the limit is UCL = 4/3 × the 99.9 % quantile of
the training windows' residuals.

**The leaderboard's point rule** (`predict_leaderboard`) windows the test part on its own, indexes
windows by their first row, and flags test point t when the N − 1 windows starting at t − 59 … t − 1
all exceed the UCL. Those windows reach up to t + 58: the decision looks 58 samples into the
future, so it is **not causal**; and the first N − 1 and the last 2N − 2 test points are never
flagged (they count as 0, as in SKAB's scoring).

**Causal variants** (`predict_causal`): windows over the run's history and test part together, a
point decided by windows that *end* at or before it, flagged when the last `persistence` of them all
exceed the UCL (persistence N − 1 is the leaderboard's count, made causal; 1 is the window ending at
t alone). This is our own code, written from a reading of SKAB's; no line of it is copied.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from ..models.skab_conv_ae import SkabConvNet
from ..preprocess import sliding_windows
from ..utils import Timer, batched, epoch_seed, get_device

__all__ = ["SkabConvAE"]


class SkabConvAE:
    """Fit on a run's training rows `(n_rows, C)`, then decide test points by the leaderboard's rule
    or causally. `out_channels=1` is SKAB's network (one reconstructed series for all channels)."""

    def __init__(
        self,
        n_steps: int = 60,
        quantile: float = 0.999,
        ucl_factor: float = 4 / 3,
        epochs: int = 100,
        batch_size: int = 32,
        validation_split: float = 0.1,
        patience: int = 5,
        lr: float = 1e-3,
        out_channels: int | None = 1,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        if n_steps < 4 or n_steps % 4:
            raise ValueError(f"n_steps must be a positive multiple of 4, got {n_steps}")
        if not 0.5 < quantile < 1.0:
            raise ValueError(f"quantile must lie in (0.5, 1), got {quantile}")
        if not 0.0 < validation_split < 0.5:
            raise ValueError(f"validation_split must lie in (0, 0.5), got {validation_split}")
        if epochs < 1 or batch_size < 1 or patience < 1:
            raise ValueError(f"epochs, batch_size and patience must be ≥ 1, got {epochs}, {batch_size}, {patience}")
        self.n_steps, self.quantile, self.ucl_factor = int(n_steps), quantile, ucl_factor
        self.epochs, self.batch_size, self.validation_split = int(epochs), int(batch_size), validation_split
        self.patience, self.lr, self.out_channels = int(patience), lr, out_channels
        self.seed, self.device = int(seed), device

    # -- fitting ------------------------------------------------------------------------------------

    def _windows(self, rows: np.ndarray) -> torch.Tensor:
        scaled = self.scaler_.transform(np.asarray(rows, dtype=np.float64)).astype(np.float32)
        return torch.from_numpy(sliding_windows(scaled, self.n_steps))  # (N, C, n_steps)

    def fit(self, X_train: Any) -> SkabConvAE:
        """Train on the windows of the training rows; sets `ucl_`, `epochs_run_`, `fit_seconds_`."""
        rows = np.asarray(X_train, dtype=np.float64)
        if rows.ndim != 2 or len(rows) < self.n_steps + 10:
            raise ValueError(f"X_train must be (rows, channels) with ≥ {self.n_steps + 10} rows, got {rows.shape}")
        with Timer() as timer:
            self.scaler_ = StandardScaler().fit(rows)
            windows = self._windows(rows)
            split = int(np.floor(len(windows) * (1.0 - self.validation_split)))  # Keras: the last share validates
            train, val = windows[:split], windows[split:]
            torch.manual_seed(self.seed)
            dev = get_device(self.device)
            self.model_ = SkabConvNet(rows.shape[1], self.out_channels).to(dev)
            opt = torch.optim.Adam(self.model_.parameters(), lr=self.lr, eps=1e-7)
            best, wait, self.history_ = float("inf"), 0, []
            for epoch in range(self.epochs):
                self.model_.train()
                order = torch.randperm(
                    len(train), generator=torch.Generator().manual_seed(epoch_seed(self.seed, epoch))
                )
                total = 0.0
                for i in range(0, len(train), self.batch_size):
                    xb = train[order[i : i + self.batch_size]].to(dev)
                    loss = ((self.model_(xb) - xb) ** 2).mean()  # Keras' MSE, the one-channel output broadcast
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(xb)
                val_loss = float(self._mse(val).mean())
                self.history_.append({"epoch": epoch, "loss": total / len(train), "val_loss": val_loss})
                if val_loss < best:
                    best, wait = val_loss, 0
                else:
                    wait += 1
                    if wait >= self.patience:
                        break
            self.epochs_run_ = len(self.history_)
            self.ucl_ = float(np.quantile(self._residuals(windows), self.quantile) * self.ucl_factor)
        self.fit_seconds_ = timer.seconds
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("SkabConvAE is not fitted; call fit(X_train) first")

    def _mse(self, windows: torch.Tensor) -> torch.Tensor:
        self.model_.eval()
        return batched(lambda xb: ((self.model_(xb) - xb) ** 2).mean(dim=(1, 2)), windows, 1024, self.device)

    def _residuals(self, windows: torch.Tensor) -> np.ndarray:
        """SKAB's residual: |x − x̂| averaged over time, summed over channels."""
        self.model_.eval()
        err = batched(lambda xb: (self.model_(xb) - xb).abs().mean(dim=2).sum(dim=1), windows, 1024, self.device)
        return err.numpy().astype(np.float64)

    # -- deciding -----------------------------------------------------------------------------------

    def residuals(self, rows: Any) -> np.ndarray:
        """Residual of every window of `rows` (stride 1), indexed by the window's first row."""
        self._fitted()
        return self._residuals(self._windows(np.asarray(rows, dtype=np.float64)))

    def predict_leaderboard(self, X_test: Any) -> tuple[np.ndarray, np.ndarray]:
        """The leaderboard's rule on the test rows alone: (0/1 per test point, score per test point).

        The score is the smallest residual of the N − 1 windows the rule looks at (the point is
        flagged exactly when it exceeds the UCL), 0 where the rule never looks."""
        res = self.residuals(X_test)
        n, N = len(np.asarray(X_test)), self.n_steps
        flags, score = np.zeros(n), np.zeros(n)
        lo, hi = N - 1, len(res) - N + 1  # SKAB's loop bounds, kept: t in [lo, hi) looks at res[t-N+1 : t]
        if hi > lo:
            score[lo:hi] = np.lib.stride_tricks.sliding_window_view(res, N - 1)[: hi - lo].min(axis=1)
            flags[lo:hi] = score[lo:hi] > self.ucl_
        return flags, score

    def predict_causal(self, history: Any, X_test: Any, persistence: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Causal decisions for the test rows, with the training rows as `history` (so every test
        point has a window ending at it): flagged when the windows ending at t − persistence + 1 … t
        all exceed the UCL. Returns (0/1 per test point, the smallest of those residuals)."""
        if persistence < 1:
            raise ValueError(f"persistence must be ≥ 1, got {persistence}")
        past, test = np.asarray(history, dtype=np.float64), np.asarray(X_test, dtype=np.float64)
        if len(past) < self.n_steps + persistence - 2:
            raise ValueError(f"history needs ≥ {self.n_steps + persistence - 2} rows, got {len(past)}")
        res = self.residuals(np.concatenate([past, test]))  # window i ends at row i + N − 1
        lowest = np.lib.stride_tricks.sliding_window_view(res, persistence).min(axis=1)  # ends at i + p − 1 + N − 1
        first_end = self.n_steps - 1 + persistence - 1
        at = np.arange(len(past), len(past) + len(test)) - first_end
        score = lowest[at]
        return (score > self.ucl_).astype(float), score
