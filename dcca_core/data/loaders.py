"""Loaders for the book's data sets: NumPy arrays and small dataclasses, from verified files.

Each loader asks `fetch_dataset` for a complete, checksum-verified form of its data set (our `.npz` files
when present, else the publisher's originals, downloaded if need be) and reads it; both forms give
identical arrays.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .fetch import DataFormatError, fetch_dataset, locate
from .readers import SKAB_CHANNELS, TEP_VAR_NAMES, read_cifar_python, read_idx, read_npz, read_skab_csv, read_tep_dat
from .registry import DATASETS

__all__ = [
    "ImageSet",
    "SkabData",
    "TepData",
    "load_mnist",
    "load_fashion_mnist",
    "load_cifar10",
    "load_skab",
    "load_tep",
    "to_grayscale",
    "dataset_table",
    "BT601_WEIGHTS",
]

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
#: ITU-R BT.601 luma weights for R, G, B.
BT601_WEIGHTS = (0.299, 0.587, 0.114)
_GREY_CHUNK = 1 << 22  # pixels


@dataclass
class ImageSet:
    """Images with their labels; unpacks as `x, y = load_mnist()`."""

    images: np.ndarray  # uint8 (N,H,W) or (N,H,W,3); float32 (N,H,W) for grey CIFAR-10
    labels: np.ndarray  # int64 (N,)
    class_names: list[str]

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.images, self.labels))

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class SkabData:
    """SKAB: 34 labelled experiments keyed "valve1/0" … "other/14", and the anomaly-free run."""

    experiments: dict[str, pd.DataFrame]  # DatetimeIndex; 8 channels + anomaly + changepoint (int 0/1)
    anomaly_free: pd.DataFrame  # DatetimeIndex; 8 channels
    channels: list[str]

    @property
    def n_rows(self) -> int:
        """All rows, the anomaly-free run included."""
        return len(self.anomaly_free) + sum(len(f) for f in self.experiments.values())


@dataclass
class TepData:
    """Tennessee Eastman (Braatz): training runs 0–21 (0 = normal) and test runs with fault flags."""

    train_X: np.ndarray  # float64 (10580, 52)
    train_run: np.ndarray  # int8 (10580,), run/fault id 0–21
    test_X: np.ndarray  # float64 (21120, 52)
    test_run: np.ndarray  # int8 (21120,)
    test_row: np.ndarray  # int16 (21120,), sample index 0–959 within the run
    test_fault_active: np.ndarray  # uint8 (21120,), 1 when test_run > 0 and test_row >= 160
    var_names: list[str]  # XMEAS(1..41), XMV(1..11)

    def test_run_X(self, fault: int) -> np.ndarray:
        """The 960 test samples of run `fault` (0 = normal, 1–21); any other id is a ValueError."""
        runs = sorted(int(r) for r in np.unique(self.test_run))
        if isinstance(fault, bool) or not isinstance(fault, (int, np.integer)) or int(fault) not in runs:
            raise ValueError(
                f"TEP fault must be one of the test runs {runs[0]}..{runs[-1]} (0 = normal), got {fault!r}"
            )
        return self.test_X[self.test_run == int(fault)]


def _check_split(split: object, valid: tuple[str, ...]) -> str:
    if not isinstance(split, str) or split not in valid:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(valid)}")
    return split


def _check_images(name: str, images: np.ndarray, labels: np.ndarray, shape: tuple[int, ...]) -> None:
    if images.shape[1:] != shape or len(images) != len(labels):
        raise DataFormatError(
            f"{name}: images {images.shape} and labels {labels.shape} do not fit "
            f"(expected (N, {', '.join(map(str, shape))}) and (N,))"
        )


def _load_idx_pair(paths: dict[str, Path], prefix: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    parts = {"train": ["train"], "test": ["t10k"], "all": ["train", "t10k"]}[split]
    images = [read_idx(paths[f"{prefix}/{p}-images-idx3-ubyte.gz"]) for p in parts]
    labels = [read_idx(paths[f"{prefix}/{p}-labels-idx1-ubyte.gz"]) for p in parts]
    return np.concatenate(images), np.concatenate(labels).astype(np.int64)


def load_mnist(split: str = "train") -> ImageSet:
    """MNIST digits, uint8 (N,28,28) with 0 = background; `split="all"` is train then test (DEC's 70,000)."""
    _check_split(split, ("train", "test", "all"))
    form, paths = fetch_dataset("mnist")
    if form == "npz":
        parts = {"train": ["train"], "test": ["test"], "all": ["train", "test"]}[split]
        arrays = read_npz(paths["mnist.npz"], [f"{k}_{p}" for p in parts for k in ("x", "y")])
        images = np.concatenate([arrays[f"x_{p}"] for p in parts])
        labels = np.concatenate([arrays[f"y_{p}"] for p in parts]).astype(np.int64)
    else:
        images, labels = _load_idx_pair(paths, "mnist", split)
    _check_images("MNIST", images, labels, (28, 28))
    return ImageSet(images, labels, list(MNIST_CLASSES))


def load_fashion_mnist(split: str = "train") -> ImageSet:
    """Fashion-MNIST, uint8 (N,28,28); `split="all"` is train then test, as for MNIST."""
    _check_split(split, ("train", "test", "all"))
    _, paths = fetch_dataset("fashion_mnist")
    images, labels = _load_idx_pair(paths, "fashion-mnist", split)
    _check_images("Fashion-MNIST", images, labels, (28, 28))
    return ImageSet(images, labels, list(FASHION_CLASSES))


def to_grayscale(images: np.ndarray) -> np.ndarray:
    """RGB (..., 3) → float32 grey in 0..255: ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B."""
    images = np.asarray(images)
    if images.shape[-1:] != (3,):
        raise ValueError(f"images must end in an RGB axis of length 3, got shape {images.shape}")
    wr, wg, wb = (np.float32(w) for w in BT601_WEIGHTS)
    flat = images.reshape(-1, 3)
    grey = np.empty(len(flat), dtype=np.float32)
    for start in range(0, len(flat), _GREY_CHUNK):  # chunks bound the float32 temporaries
        rgb = flat[start : start + _GREY_CHUNK].astype(np.float32)
        part = rgb[:, 0] * wr
        part += rgb[:, 1] * wg
        part += rgb[:, 2] * wb
        grey[start : start + _GREY_CHUNK] = part
    return grey.reshape(images.shape[:-1])


def load_cifar10(split: str = "train", grayscale: bool = False) -> ImageSet:
    """CIFAR-10, uint8 (N,32,32,3) RGB; with `grayscale`, float32 (N,32,32) grey in 0..255.

    Grey is ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B computed in float32, the conversion of
    the CIFAR-10 study's Keras pipeline (`tf.image.rgb_to_grayscale`; TensorFlow writes the red
    weight as 0.2989 and, for uint8 input, rounds back to uint8, so its values can differ from ours
    by at most about one grey level). Divide by 255 for the study's [0, 1] scaling.
    """
    _check_split(split, ("train", "test"))
    if not isinstance(grayscale, (bool, np.bool_)):
        raise ValueError(f"grayscale must be True or False, got {grayscale!r}")
    form, paths = fetch_dataset("cifar10")
    if form == "npz":
        names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
        images, labels = [], []
        for i, name in enumerate(names):
            keys = ["images", "labels"] + (["class_names"] if i == 0 else [])
            arrays = read_npz(paths[f"cifar10/{name}.npz"], keys)
            images.append(to_grayscale(arrays["images"]) if grayscale else arrays["images"])
            labels.append(arrays["labels"].astype(np.int64))
            if i == 0:
                class_names = [str(c) for c in arrays["class_names"]]
        images, labels = np.concatenate(images), np.concatenate(labels)
    else:
        images, labels, class_names = read_cifar_python(paths["cifar10/cifar-10-python.tar.gz"], split)
        if grayscale:
            images = to_grayscale(images)
    _check_images("CIFAR-10", images, labels, (32, 32) if grayscale else (32, 32, 3))
    return ImageSet(images, labels, class_names)


def _natural_key(key: str) -> tuple:
    group, _, number = key.partition("/")
    return (
        ["valve1", "valve2", "other"].index(group) if group in ("valve1", "valve2", "other") else 3,
        group,
        int(number) if number.isdigit() else number,
    )


def load_skab() -> SkabData:
    """SKAB: each experiment's frame in file order (1 Hz DatetimeIndex, point labels) and the anomaly-free run."""
    _, paths = fetch_dataset("skab")
    experiments, anomaly_free = {}, None
    for rel, path in paths.items():
        key = re.sub(r"^skab/|\.csv$", "", rel)
        if key == "anomaly-free/anomaly-free":
            anomaly_free = read_skab_csv(path, labelled=False)
        else:
            experiments[key] = read_skab_csv(path, labelled=True)
    experiments = {k: experiments[k] for k in sorted(experiments, key=_natural_key)}
    return SkabData(experiments, anomaly_free, list(SKAB_CHANNELS))


_TEP_KEYS = ["train_X", "train_run", "test_X", "test_run", "test_row", "test_fault_active", "var_names"]


def load_tep() -> TepData:
    """Tennessee Eastman (Braatz): train runs d00–d21, test runs d00_te–d21_te, fault-active flags."""
    form, paths = fetch_dataset("tep")
    if form == "npz":
        arrays = read_npz(paths["tep/tep_braatz.npz"], _TEP_KEYS)
    else:
        arrays = read_tep_dat({rel.rsplit("/", 1)[-1]: p for rel, p in paths.items()})
    if arrays["train_X"].shape != (10580, 52) or arrays["test_X"].shape != (21120, 52):
        raise DataFormatError(
            f"TEP arrays have shapes {arrays['train_X'].shape}, {arrays['test_X'].shape}; "
            "expected (10580, 52) and (21120, 52)"
        )
    var_names = [str(v) for v in arrays.pop("var_names")]
    if var_names != TEP_VAR_NAMES:
        raise DataFormatError(f"TEP variable names are {var_names[:3]}…, expected XMEAS(1..41), XMV(1..11)")
    return TepData(**arrays, var_names=var_names)


def dataset_table() -> pd.DataFrame:
    """One row per data set (name, samples, files, licence, citation, source, where found) for chapter 0."""
    rows = []
    for ds in DATASETS.values():
        files = "; ".join(f"{f.name}: {len(f.files)} file{'s' if len(f.files) > 1 else ''}" for f in ds.forms)
        rows.append(
            {
                "name": ds.name,
                "title": ds.title,
                "samples": ds.samples,
                "files": files,
                "licence": ds.licence,
                "citation": ds.citation,
                "source": ds.homepage,
                "found": locate(ds.name) or "not on disk (downloaded on first load)",
            }
        )
    return pd.DataFrame(rows)
