"""The bench: the flop count of the silhouette's GEMM-limit row, and the profiler breakdown of where time goes."""

from __future__ import annotations

import pytest
import torch

from bench.run import _breakdown_rows, silhouette_flops, where_time_goes
from dcca_core.metrics.silhouette import _BLOCK


@pytest.mark.parametrize("n", [10, _BLOCK, 2 * _BLOCK + 452])
def test_silhouette_flops_counts_each_block_pair_once(n: int) -> None:
    d = 7
    sizes = [min(_BLOCK, n - s) for s in range(0, n, _BLOCK)]
    pairs = sum(2 * d * sizes[i] * sizes[j] for i in range(len(sizes)) for j in range(i, len(sizes)))
    assert silhouette_flops(n, d) == pytest.approx(pairs, rel=1e-12)
    assert silhouette_flops(n, d) < 2.0 * n * n * d or len(sizes) == 1  # symmetry saves flops


def test_where_time_goes_names_the_op_that_does_the_work_and_its_share():
    a = torch.randn(256, 256)
    b = where_time_goes(lambda: [a @ a for _ in range(20)], top=3)
    assert b["ops"][0]["op"] in ("aten::mm", "aten::matmul")  # the products, not the Python loop
    assert b["ops"][0]["calls"] == 20
    assert 0 < b["ops"][0]["share"] <= b["torch_share"] <= 1.5  # shares of the wall time (profiler overhead aside)
    row = _breakdown_rows("demo", b)[0]
    assert row[0].startswith("  where demo's time goes") and "mm" in row[2]
