"""The bench's flop count for the silhouette's GEMM-limit row matches the block pairs the silhouette visits."""

from __future__ import annotations

import pytest

from bench.run import silhouette_flops
from dcca_core.metrics.silhouette import _BLOCK


@pytest.mark.parametrize("n", [10, _BLOCK, 2 * _BLOCK + 452])
def test_silhouette_flops_counts_each_block_pair_once(n: int) -> None:
    d = 7
    sizes = [min(_BLOCK, n - s) for s in range(0, n, _BLOCK)]
    pairs = sum(2 * d * sizes[i] * sizes[j] for i in range(len(sizes)) for j in range(i, len(sizes)))
    assert silhouette_flops(n, d) == pytest.approx(pairs, rel=1e-12)
    assert silhouette_flops(n, d) < 2.0 * n * n * d or len(sizes) == 1  # symmetry saves flops
