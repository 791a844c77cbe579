"""Readers of the publishers' original forms, checked against the shared npz conversions."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from dcca_core.data import DataFormatError
from dcca_core.data.fetch import repo_root
from dcca_core.data.readers import read_cifar_python, read_idx, read_npz, read_skab_csv, read_tep_dat

SHARED = repo_root().parent / "shared" / "data"  # ../shared beside the repo, as in CI
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def _idx_bytes(array: np.ndarray) -> bytes:
    """The official IDX layout: 00 00 08 ndim, big-endian uint32 dims, then the raw bytes."""
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def test_read_idx_reads_the_official_layout(tmp_path):
    mnist = read_npz(SHARED / "mnist.npz", ["x_test", "y_test"])
    labels = _idx_bytes(mnist["y_test"])
    assert hashlib.md5(labels).hexdigest() == "27ae3e4e09519cfbb04c329615203637"  # official t10k-labels-idx1-ubyte
    (tmp_path / "labels.gz").write_bytes(gzip.compress(labels))
    (tmp_path / "images").write_bytes(_idx_bytes(mnist["x_test"][:100]))
    np.testing.assert_array_equal(read_idx(tmp_path / "labels.gz"), mnist["y_test"])
    images = read_idx(tmp_path / "images")
    assert images.shape == (100, 28, 28) and images.flags.writeable
    np.testing.assert_array_equal(images, mnist["x_test"][:100])


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_read_idx_on_debian_fashion_mnist():
    labels = read_idx(FASHION_DIR / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,) and labels[:5].tolist() == [9, 2, 1, 1, 6]


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad_magic").write_bytes(b"\x00\x00\x0d\x01" + bytes(8))
    with pytest.raises(DataFormatError, match="bad magic"):
        read_idx(tmp_path / "bad_magic")
    (tmp_path / "short").write_bytes(_idx_bytes(np.zeros((4, 3), np.uint8))[:-2])
    with pytest.raises(DataFormatError, match="payload size"):
        read_idx(tmp_path / "short")
    (tmp_path / "cut.gz").write_bytes(gzip.compress(_idx_bytes(np.zeros((50, 3), np.uint8)))[:20])
    with pytest.raises(DataFormatError, match="cut.gz"):
        read_idx(tmp_path / "cut.gz")


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def test_read_cifar_python_layout_matches_the_npz(tmp_path):
    batch = read_npz(SHARED / "cifar10/test_batch.npz", ["images", "labels", "class_names"])
    images, labels = batch["images"][:40], batch["labels"][:40]
    # The python version's layout: rows of 3072 bytes, the R, G, B planes; labels a list; bytes keys.
    data = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(40, 3072)
    path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        _add(
            tar,
            "cifar-10-batches-py/batches.meta",
            pickle.dumps({b"label_names": [n.encode() for n in batch["class_names"]]}, protocol=2),
        )
        _add(
            tar,
            "cifar-10-batches-py/test_batch",
            pickle.dumps(
                {b"data": data, b"labels": labels.tolist(), b"batch_label": b"testing batch 1 of 1"}, protocol=2
            ),
        )
    x, y, names = read_cifar_python(path, "test")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert names[:2] == ["airplane", "automobile"] and y.dtype == np.int64
    with pytest.raises(DataFormatError, match="data_batch_1"):
        read_cifar_python(path, "train")


def test_read_cifar_python_refuses_foreign_pickles(tmp_path):
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "cifar-10-batches-py/batches.meta", pickle.dumps({b"label_names": Path("x")}, protocol=2))
        _add(tar, "cifar-10-batches-py/test_batch", pickle.dumps({}, protocol=2))
    with pytest.raises(DataFormatError, match="refusing to load pathlib"):
        read_cifar_python(path, "test")


def test_read_tep_dat_reproduces_the_npz(tmp_path):
    ref = read_npz(
        SHARED / "tep/tep_braatz.npz",
        ["train_X", "train_run", "test_X", "test_run", "test_row", "test_fault_active", "var_names"],
    )
    paths = {}
    for run in range(22):  # written as the Braatz files are: %.7e columns, d00.dat transposed
        train = ref["train_X"][ref["train_run"] == run]
        for name, block in (
            (f"d{run:02d}.dat", train.T if run == 0 else train),
            (f"d{run:02d}_te.dat", ref["test_X"][ref["test_run"] == run]),
        ):
            paths[name] = tmp_path / name
            np.savetxt(paths[name], block, fmt="%15.7e")
    arrays = read_tep_dat(paths)
    for key, value in ref.items():
        np.testing.assert_array_equal(arrays[key], value, err_msg=key)
        assert arrays[key].dtype == value.dtype, key
    np.savetxt(paths["d05.dat"], ref["train_X"][:10], fmt="%15.7e")
    with pytest.raises(DataFormatError, match=r"d05.dat .*shape \(10, 52\)"):
        read_tep_dat(paths)


def test_read_skab_csv_checks_columns_and_labels(tmp_path):
    frame = read_skab_csv(SHARED / "skab/anomaly-free/anomaly-free.csv", labelled=False)
    assert frame.shape == (9405, 8) and frame.index.name == "datetime"
    with pytest.raises(DataFormatError, match="columns are"):
        read_skab_csv(SHARED / "skab/anomaly-free/anomaly-free.csv", labelled=True)
    text = (SHARED / "skab/valve1/0.csv").read_text().splitlines()
    text[1] = text[1].rsplit(";", 2)[0] + ";0.5;0.0"
    (tmp_path / "bad.csv").write_text("\n".join(text))
    with pytest.raises(DataFormatError, match="'anomaly' holds values other than 0/1"):
        read_skab_csv(tmp_path / "bad.csv")


def test_read_npz_names_missing_arrays():
    with pytest.raises(DataFormatError, match=r"arrays \['nope'\] absent"):
        read_npz(SHARED / "tep/tep_braatz.npz", ["nope"])
