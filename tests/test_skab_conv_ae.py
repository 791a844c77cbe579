"""SKAB's Conv-AE replica: TensorFlow's "same" alignment, Keras' training recipe, the leaderboard's
non-causal point rule against the causal one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dcca_core.anomaly.skab_conv_ae import SkabConvAE
from dcca_core.models.skab_conv_ae import SkabConvNet, _same_pads, _SameConvTranspose


def test_tensorflow_same_padding_puts_the_extra_element_on_the_right():
    assert _same_pads(60, 2) == (2, 3)  # 30 outputs need 29*2 + 7 = 65 inputs: 5 pads
    assert _same_pads(30, 2) == (2, 3)
    assert _same_pads(60, 1) == (3, 3)
    assert _same_pads(61, 2) == (3, 3)  # 31 outputs: 30*2 + 7 - 61 = 6


def test_a_transposed_same_convolution_is_cropped_as_tensorflow_crops_it():
    layer = _SameConvTranspose(1, 1, 7, stride=2, bias=False)
    torch.nn.init.ones_(layer.weight)
    x = torch.zeros(1, 1, 5)
    x[0, 0, 0] = 1.0  # a delta at the first input: the full output holds ones at 0..6, TF crops 2 on the left
    y = layer(x)[0, 0]
    assert y.shape == (10,) and y.tolist() == [1.0] * 5 + [0.0] * 5


def test_the_network_reconstructs_one_shared_series_unless_corrected():
    x = torch.randn(3, 8, 60)
    assert SkabConvNet(8)(x).shape == (3, 1, 60)  # the leaderboard's: one output channel
    assert SkabConvNet(8, out_channels=None)(x).shape == (3, 8, 60)
    net = SkabConvNet(8)
    assert all(
        float(m.bias.detach().abs().sum()) == 0
        for m in net.modules()
        if isinstance(m, (torch.nn.Conv1d, torch.nn.ConvTranspose1d))
    )
    with pytest.raises(ValueError, match="multiple of 4"):
        net(torch.randn(1, 8, 30))


def _fitted_with_residuals(residuals, n_steps=4, ucl=1.0):
    """A detector whose residuals are given (no network): the rules are tested on their own."""
    det = SkabConvAE(n_steps=n_steps)
    det.model_, det.ucl_ = object(), ucl
    det.residuals = lambda rows: np.asarray(residuals(len(rows)), dtype=float)  # type: ignore[method-assign]
    return det


def test_the_leaderboard_rule_looks_into_the_future_and_skips_both_ends():
    n, N = 20, 4  # 17 windows, indexed by their first row
    res = np.zeros(n - N + 1)
    res[8:11] = 5.0  # windows starting at 8, 9, 10 exceed the limit
    det = _fitted_with_residuals(lambda rows: res, n_steps=N)
    flags, score = det.predict_leaderboard(np.zeros((n, 2)))
    # point t is flagged when windows t-3 .. t-1 all exceed: only t = 11
    assert np.flatnonzero(flags).tolist() == [11]
    # window 10 covers rows 10..13, so point 11's decision used rows up to 13: two rows ahead of it
    # the loop never decides the first N-1 points nor the last 2N-2
    assert score[: N - 1].tolist() == [0.0] * 3 and score[n - (2 * N - 2) :].tolist() == [0.0] * 6
    late = res.copy()
    late[10] = 0.0  # a change in a window that starts *after* point 9 ... moves point 11's decision
    flags_late, _ = _fitted_with_residuals(lambda rows: late, n_steps=N).predict_leaderboard(np.zeros((n, 2)))
    assert flags_late[11] == 0.0


@pytest.mark.parametrize("n, N", [(60, 4), (150, 60), (119, 60), (118, 60)])
def test_the_leaderboard_rule_equals_skabs_loop_written_out(n, N):
    res = np.random.default_rng(n).exponential(size=max(n - N + 1, 0))
    det = _fitted_with_residuals(lambda rows: res, n_steps=N, ucl=1.5)
    flags, score = det.predict_leaderboard(np.zeros((n, 2)))
    want_flags, want_score = np.zeros(n), np.zeros(n)
    for t in range(N - 1, len(res) - N + 1):  # SKAB's loop, as its code has it
        want_score[t] = res[t - N + 1 : t].min()
        want_flags[t] = float(want_score[t] > 1.5)
    np.testing.assert_array_equal(score, want_score)
    np.testing.assert_array_equal(flags, want_flags)


def test_the_causal_rule_uses_only_windows_that_end_at_or_before_the_point():
    hist, n_test, N = 10, 12, 4
    res = np.zeros(hist + n_test - N + 1)  # window i ends at row i + 3
    res[[9, 10, 11]] = 5.0  # windows ending at rows 12, 13, 14 (test points 2, 3, 4)
    det = _fitted_with_residuals(lambda rows: res, n_steps=N)
    one, _ = det.predict_causal(np.zeros((hist, 2)), np.zeros((n_test, 2)), persistence=1)
    assert np.flatnonzero(one).tolist() == [2, 3, 4]
    three, score = det.predict_causal(np.zeros((hist, 2)), np.zeros((n_test, 2)), persistence=3)
    assert np.flatnonzero(three).tolist() == [4]  # the third exceedance in a row
    assert score[4] == 5.0 and score[5] == 0.0
    with pytest.raises(ValueError, match="persistence"):
        det.predict_causal(np.zeros((hist, 2)), np.zeros((n_test, 2)), persistence=0)


def _series(rng, n=500, channels=3):
    t = np.arange(n)
    return np.stack([np.sin(t / (5 + c)) + rng.normal(0, 0.05, n) for c in range(channels)], axis=1)


def test_fitting_follows_the_keras_recipe_and_is_seeded():
    rng = np.random.default_rng(0)
    train = _series(rng, 400)
    det = SkabConvAE(n_steps=60, epochs=30, patience=2, seed=1, device="cpu").fit(train)
    assert 1 <= det.epochs_run_ <= 30 and det.ucl_ > 0 and det.fit_seconds_ > 0
    assert det.history_[-1]["loss"] < det.history_[0]["loss"]
    again = SkabConvAE(n_steps=60, epochs=30, patience=2, seed=1, device="cpu").fit(train)
    assert again.ucl_ == det.ucl_ and again.epochs_run_ == det.epochs_run_
    # the UCL is 4/3 of the training residuals' 99.9 % quantile
    assert det.ucl_ == pytest.approx(np.quantile(det.residuals(train), 0.999) * 4 / 3)
    test = _series(rng, 300)
    test[150:, 0] += 4.0  # a large step from row 150
    flags, _ = det.predict_leaderboard(test)
    causal, _ = det.predict_causal(train, test, persistence=1)
    # windows starting at 91 or later hold shifted rows; the loop decides points 59 .. 181 only
    assert flags[:100].sum() == 0 and flags[155:182].mean() > 0.5 and flags[182:].sum() == 0
    assert causal[:140].mean() < 0.1 and causal[160:].mean() > 0.9


def test_bad_settings_and_inputs_are_refused():
    with pytest.raises(ValueError, match="multiple of 4"):
        SkabConvAE(n_steps=30)
    with pytest.raises(ValueError, match="quantile"):
        SkabConvAE(quantile=1.2)
    with pytest.raises(ValueError, match="not fitted"):
        SkabConvAE().residuals(np.zeros((100, 2)))
    with pytest.raises(ValueError, match="rows"):
        SkabConvAE().fit(np.zeros((50, 2)))


def test_keras_validation_split_and_early_stopping(monkeypatch):
    """The last 10 % of the windows validate (Keras' floor split), training stops once the validation
    loss has not improved for `patience` epochs, and the final weights are kept."""
    rng = np.random.default_rng(0)
    train = _series(rng, 200)  # 141 windows of 60: 126 train, 15 validate
    losses = iter([1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.1, 0.1])
    seen = []

    def fake_mse(self, windows):
        seen.append(len(windows))
        return torch.tensor([next(losses)])

    monkeypatch.setattr(SkabConvAE, "_mse", fake_mse)
    det = SkabConvAE(n_steps=60, epochs=50, patience=5, seed=0, device="cpu").fit(train)
    assert set(seen) == {15}
    assert det.epochs_run_ == 7  # best at epoch 2, then five epochs without improvement
    assert [h["val_loss"] for h in det.history_] == pytest.approx([1.0, 0.9] + [0.95] * 5)
