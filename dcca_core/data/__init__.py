"""Verified access to the book's real data sets (registry, lookup/download, readers, loaders).

    from dcca_core.data import load_mnist, load_cifar10, load_skab, load_tep, dataset_table
    x, y = load_mnist("all")                      # 70,000 digits, train then test
    grey = load_cifar10("test", grayscale=True)   # float32 BT.601 luma in 0..255

Files are looked for in the data dir ($DCCA_DATA_DIR, else <repo>/data in a checkout, else the
per-user cache folder), <repo>/data, ./data, <repo>/../shared/data (and
/usr/share/datasets/fashion-mnist for Fashion-MNIST), verified by checksum, and otherwise downloaded
from the publisher into the data dir. See `dcca_core.data.fetch` for the environment variables.
"""

from .fetch import (
    DataChecksumError,
    DataFormatError,
    DataNotFoundError,
    DownloadStalledError,
    data_dir,
    fetch_dataset,
    file_digests,
    search_roots,
    verify_file,
)
from .loaders import (
    BT601_WEIGHTS,
    ImageSet,
    SkabData,
    TepData,
    dataset_table,
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
    load_skab,
    load_tep,
    to_grayscale,
)
from .registry import DATASETS, DataFile, DataForm, Dataset, get_dataset

__all__ = [
    "load_mnist",
    "load_fashion_mnist",
    "load_cifar10",
    "load_skab",
    "load_tep",
    "to_grayscale",
    "ImageSet",
    "SkabData",
    "TepData",
    "BT601_WEIGHTS",
    "DATASETS",
    "Dataset",
    "DataForm",
    "DataFile",
    "get_dataset",
    "dataset_table",
    "fetch_dataset",
    "data_dir",
    "search_roots",
    "verify_file",
    "file_digests",
    "DataNotFoundError",
    "DataChecksumError",
    "DataFormatError",
    "DownloadStalledError",
]
