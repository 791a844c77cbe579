"""Chapter 0's record: the size of each data set as loaded, beside the size its publisher gives.

A loader that silently dropped a file or read one twice would change these counts, so the chapter
records them like any other result and the claims table checks them against the published figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..data import ImageSet, SkabData, TepData
from ..results import ChapterRun

__all__ = ["PUBLISHED", "size_metrics", "record_results"]

_SKAB = "SKAB v0.9 (Katser & Kozitsin 2020)"
_TEP = "Braatz TEP data (Chiang et al. 2001)"
#: The publishers' sizes, one home for the chapter and the scoreboard.
PUBLISHED: dict[str, dict[str, Any]] = {
    "mnist_images": {"value": 70000, "source": "LeCun et al. 1998"},
    "fashion_mnist_images": {"value": 70000, "source": "Xiao et al. 2017"},
    "cifar10_test_images": {"value": 10000, "source": "Krizhevsky 2009"},
    "skab_rows": {"value": 46806, "source": _SKAB},
    "skab_experiments": {"value": 34, "source": _SKAB},
    "tep_train_rows": {"value": 10580, "source": _TEP},
    "tep_test_rows": {"value": 21120, "source": _TEP},
}


def size_metrics(
    mnist: ImageSet, fashion: ImageSet, cifar_test: ImageSet, skab: SkabData, tep: TepData
) -> dict[str, int]:
    """The counts `PUBLISHED` names, from the loaded data (MNIST and Fashion-MNIST: all 70,000 images)."""
    return {
        "mnist_images": len(mnist),
        "fashion_mnist_images": len(fashion),
        "cifar10_test_images": len(cifar_test),
        "skab_rows": int(skab.n_rows),
        "skab_experiments": len(skab.experiments),
        "tep_train_rows": len(tep.train_X),
        "tep_test_rows": len(tep.test_X),
    }


def record_results(
    run: ChapterRun, *, mnist: ImageSet, fashion: ImageSet, cifar_test: ImageSet, skab: SkabData, tep: TepData
) -> tuple[Path, dict[str, int]]:
    """Write chapter 0's results record (the sizes beside `PUBLISHED`); returns its path and the metrics."""
    metrics = size_metrics(mnist, fashion, cifar_test, skab, tep)
    return run.write(metrics, published=PUBLISHED), metrics
