"""Bootstrap intervals: coverage on known distributions, pairing, determinism, clear errors."""

import numpy as np
import pytest

from dcca_core.stats import Interval, bootstrap_mean, paired_difference, unit_bootstrap


def test_mean_interval_brackets_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small = bootstrap_mean(rng.normal(5.0, 1.0, 20))
    large = bootstrap_mean(rng.normal(5.0, 1.0, 2000))
    assert small.low < small.estimate < small.high
    assert large.low < 5.0 < large.high
    # the width falls like 1/sqrt(n): 100x the units, about a tenth of the width
    ratio = (large.high - large.low) / (small.high - small.low)
    assert 0.05 < ratio < 0.2


def test_interval_width_matches_normal_theory():
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 2.0, 400)
    ci = bootstrap_mean(x, level=0.95)
    se = x.std(ddof=1) / np.sqrt(len(x))
    assert (ci.high - ci.low) == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_paired_difference_sees_a_shift_the_unpaired_spread_hides():
    rng = np.random.default_rng(2)
    base = rng.uniform(0.0, 1.0, 21)  # very uneven units (faults that are easy or hard)
    better = base + 0.03 + rng.normal(0, 0.005, 21)
    diff = paired_difference(better, base)
    assert diff.excludes(0.0) and diff.low > 0.02
    same = paired_difference(base + rng.normal(0, 0.01, 21), base)
    assert not same.excludes(0.0)
    # unpaired, the two means' intervals overlap: the pairing is what separates them
    assert bootstrap_mean(better).low < bootstrap_mean(base).high


def test_same_seed_same_interval_other_seed_other_interval():
    x = np.random.default_rng(3).exponential(size=30)
    assert bootstrap_mean(x, seed=5) == bootstrap_mean(x, seed=5)
    assert bootstrap_mean(x, seed=5).low != bootstrap_mean(x, seed=6).low


def test_constant_values_give_a_point_interval():
    ci = bootstrap_mean([0.25, 0.25, 0.25])
    assert (ci.estimate, ci.low, ci.high) == (0.25, 0.25, 0.25)
    assert not ci.excludes(0.25) and ci.excludes(0.0)


def test_unit_bootstrap_of_a_pooled_ratio():
    # per-unit hits and totals; the statistic pools them (like F1 over SKAB runs), it is not a mean of ratios
    hits = np.array([9, 1, 50, 3, 7, 20])
    total = np.array([10, 10, 100, 10, 10, 40])
    ci = unit_bootstrap(len(hits), lambda idx: hits[idx].sum() / total[idx].sum(), n_resamples=1000)
    assert ci.estimate == pytest.approx(90 / 180)
    assert ci.low < ci.estimate < ci.high
    assert 0.0 <= ci.low and ci.high <= 1.0
    assert ci.n == 6


def test_as_dict_and_str():
    ci = Interval(0.5, 0.4, 0.6, 0.95, 10)
    assert ci.as_dict("m") == {"m": 0.5, "m_ci_low": 0.4, "m_ci_high": 0.6}
    assert str(ci) == "0.500 [0.400, 0.600]"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: bootstrap_mean([1.0]), "at least 2"),
        (lambda: bootstrap_mean([1.0, np.nan, 2.0]), "NaN"),
        (lambda: bootstrap_mean([[1.0, 2.0]]), "1-d"),
        (lambda: bootstrap_mean([1.0, 2.0], level=1.5), "level"),
        (lambda: bootstrap_mean([1.0, 2.0], n_resamples=10), "n_resamples"),
        (lambda: paired_difference([1.0, 2.0], [1.0, 2.0, 3.0]), "pair up"),
        (lambda: unit_bootstrap(1, lambda idx: 0.0), "2 units"),
    ],
)
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
