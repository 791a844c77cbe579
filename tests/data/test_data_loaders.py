"""Loaders on the real shared data: shapes, dtypes, known counts and orders, argument checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dcca_core.data import (
    BT601_WEIGHTS,
    dataset_table,
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
    load_skab,
    load_tep,
    to_grayscale,
)

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_train_shapes_dtypes_and_class_counts():
    x, y = load_mnist("train")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == MNIST_TRAIN_COUNTS
    assert x.min() == 0 and x.max() == 255 and x[:, 0, 0].max() == 0  # ink 255 on a 0 background


def test_mnist_all_is_train_then_test():
    everything, test = load_mnist("all"), load_mnist("test")
    assert len(everything) == 70000 and everything.class_names == [str(d) for d in range(10)]
    assert np.bincount(test.labels).tolist() == MNIST_TEST_COUNTS
    np.testing.assert_array_equal(everything.images[60000:], test.images)
    np.testing.assert_array_equal(everything.labels[60000:], test.labels)
    assert np.bincount(everything.labels[:60000]).tolist() == MNIST_TRAIN_COUNTS


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_from_the_debian_package():
    everything = load_fashion_mnist("all")
    assert everything.images.shape == (70000, 28, 28) and everything.images.dtype == np.uint8
    assert np.bincount(everything.labels[:60000]).tolist() == [6000] * 10
    assert np.bincount(everything.labels[60000:]).tolist() == [1000] * 10
    assert everything.labels[:5].tolist() == [9, 0, 0, 3, 0]  # upstream's first training labels
    assert everything.class_names[0] == "T-shirt/top" and everything.class_names[9] == "Ankle boot"


@pytest.fixture(scope="module")
def cifar_test():
    return load_cifar10("test")


def test_cifar10_test_split(cifar_test):
    x, y = cifar_test
    assert x.shape == (10000, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    assert y[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert np.bincount(y).tolist() == [1000] * 10
    assert cifar_test.class_names == [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]


def test_cifar10_train_split_counts():
    x, y = load_cifar10("train")
    assert x.shape == (50000, 32, 32, 3) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [5000] * 10


def test_cifar10_grayscale_is_bt601_luma_of_the_rgb_images(cifar_test):
    grey = load_cifar10("test", grayscale=True)
    assert grey.images.shape == (10000, 32, 32) and grey.images.dtype == np.float32
    np.testing.assert_array_equal(grey.labels, cifar_test.labels)
    rgb = cifar_test.images[:5].astype(np.float64)
    expected = rgb @ np.array(BT601_WEIGHTS)
    np.testing.assert_allclose(grey.images[:5], expected, rtol=0, atol=1e-3)
    assert 0.0 <= grey.images.min() and grey.images.max() <= 255.0


def test_grayscale_formula_on_hand_made_pixels():
    pixels = np.array([[[10, 20, 30], [255, 0, 0], [0, 0, 255], [255, 255, 255]]], dtype=np.uint8)
    grey = to_grayscale(pixels)
    assert grey.shape == (1, 4) and grey.dtype == np.float32
    # 0.299*10 + 0.587*20 + 0.114*30 = 2.99 + 11.74 + 3.42
    np.testing.assert_allclose(grey[0], [18.15, 76.245, 29.07, 255.0], rtol=0, atol=1e-4)
    with pytest.raises(ValueError, match="RGB axis"):
        to_grayscale(np.zeros((2, 4), dtype=np.uint8))


def test_skab_experiments_rows_labels_and_order():
    skab = load_skab()
    keys = list(skab.experiments)
    assert len(keys) == 34
    assert keys[:3] == ["valve1/0", "valve1/1", "valve1/2"] and keys[15:17] == ["valve1/15", "valve2/0"]
    assert keys[20] == "other/1" and keys[-1] == "other/14"
    assert skab.n_rows == 46806 and len(skab.anomaly_free) == 9405
    assert list(skab.anomaly_free.columns) == skab.channels and len(skab.channels) == 8
    for key, frame in skab.experiments.items():
        assert list(frame.columns) == skab.channels + ["anomaly", "changepoint"], key
        assert isinstance(frame.index, pd.DatetimeIndex) and frame["anomaly"].dtype == np.int64
        assert 188 <= frame["anomaly"].sum() <= 586, key  # one collective anomaly per experiment
    first = skab.experiments["valve1/0"]
    assert str(first.index[0]) == "2020-03-09 10:14:33" and first.iloc[0]["Current"] == pytest.approx(1.3302)


def test_tep_shapes_runs_and_fault_flags():
    tep = load_tep()
    assert tep.train_X.shape == (10580, 52) and tep.test_X.shape == (21120, 52)
    assert tep.train_X.dtype == np.float64 and np.isfinite(tep.train_X).all()
    assert np.bincount(tep.train_run).tolist() == [500] + [480] * 21
    assert np.bincount(tep.test_run).tolist() == [960] * 22
    assert tep.test_row.max() == 959
    assert tep.test_fault_active.sum() == 21 * 800
    np.testing.assert_array_equal(tep.test_fault_active, (tep.test_run > 0) & (tep.test_row >= 160))
    assert tep.var_names[0] == "XMEAS(1)" and tep.var_names[41] == "XMV(1)" and len(tep.var_names) == 52
    assert tep.test_run_X(8).shape == (960, 52) and np.array_equal(tep.test_run_X(0), tep.test_X[:960])
    for bad in (99, 22, -1, True, 1.0):  # `-p tep_fault 99` is an error, not an empty plot
        with pytest.raises(ValueError, match="TEP fault must be one of the test runs 0..21"):
            tep.test_run_X(bad)


@pytest.mark.parametrize(
    "call, valid",
    [
        (lambda: load_mnist("validation"), "train, test, all"),
        (lambda: load_fashion_mnist(0), "train, test, all"),
        (lambda: load_cifar10("all"), "train, test"),
    ],
)
def test_unknown_split_lists_the_valid_ones(call, valid):
    with pytest.raises(ValueError, match=f"unknown split .*valid splits: {valid}"):
        call()


def test_grayscale_argument_must_be_bool():
    with pytest.raises(ValueError, match="grayscale must be True or False"):
        load_cifar10("test", grayscale="yes")


def test_dataset_table_lists_every_data_set():
    table = dataset_table()
    assert table["name"].tolist() == ["mnist", "fashion_mnist", "cifar10", "skab", "tep"]
    assert {"samples", "files", "licence", "citation", "source", "found"} <= set(table.columns)
    assert table["licence"].str.len().min() > 2 and table["citation"].str.contains("19|20").all()
    assert table.set_index("name").loc["skab", "licence"] == "GPL-3.0"
