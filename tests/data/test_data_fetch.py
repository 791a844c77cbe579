"""Lookup, checksum verification (with its cache) and downloading, with clear errors."""

from __future__ import annotations

import hashlib
import os
import shutil

import numpy as np
import pytest

import dcca_core.data.fetch as fetch_module
from dcca_core.data import (
    DataChecksumError,
    DataFile,
    DataFormatError,
    DataNotFoundError,
    get_dataset,
    load_fashion_mnist,
    load_mnist,
    load_skab,
    load_tep,
)
from dcca_core.data.fetch import download_file, file_digests, repo_root, search_roots
from dcca_core.data.readers import read_npz

SHARED = repo_root().parent / "shared" / "data"  # ../shared beside the repo, as in CI

SKAB_FILE = "skab/valve1/0.csv"
SKAB_SHA = "16af3f71313a23dd33d9b7b8065d836d05c3f9257588881cc7fbe07c076d9dc8"


def test_search_order_puts_the_data_dir_first(isolated, tmp_path):
    roots = [str(folder) for folder, _ in search_roots(get_dataset("fashion_mnist"))]
    assert roots == [str(isolated), str(tmp_path / "empty")]  # DCCA_DATA_SEARCH replaces the defaults


def test_corrupted_copy_raises_one_checksum_error(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "skab/valve1").mkdir(parents=True)
    bad = data / SKAB_FILE
    blob = bytearray((SHARED / SKAB_FILE).read_bytes())
    blob[1000] ^= 0x01
    bad.write_bytes(bytes(blob))
    monkeypatch.setenv("DCCA_DATA_DIR", str(data))  # found first; the other 34 files come from ../shared
    with pytest.raises(DataChecksumError) as info:
        load_skab()
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert str(bad) in message and SKAB_SHA in message
    assert hashlib.sha256(bytes(blob)).hexdigest() in message
    assert "Delete it" in message


def test_truncated_npz_gives_the_clear_error(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    truncated = data / "mnist.npz"
    truncated.write_bytes((SHARED / "mnist.npz").read_bytes()[:3_000_000])
    monkeypatch.setenv("DCCA_DATA_DIR", str(data))
    with pytest.raises(DataChecksumError, match="mnist.npz"):
        load_mnist("test")
    with pytest.raises(DataFormatError, match=r"cannot read .*mnist.npz as an .npz archive"):
        read_npz(truncated, ["x_test"])  # the reader alone never leaks a zipfile traceback either


def test_missing_file_names_every_place_looked(isolated, tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_tep()
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "tep/tep_braatz.npz" in message
    assert str(isolated / "tep/tep_braatz.npz") in message and str(tmp_path / "empty/tep/tep_braatz.npz") in message
    assert "DCCA_DATA_DOWNLOAD=0" in message and "../shared/data" in message


def test_missing_fashion_mnist_points_to_the_debian_package(isolated):
    with pytest.raises(DataNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("test")


def test_digest_cache_skips_rehash_but_notices_a_change(isolated, monkeypatch):
    path = isolated / "x.csv"
    path.write_bytes(b"a;b\n1;2\n")
    first = file_digests(path)["sha256"]
    assert first == hashlib.sha256(b"a;b\n1;2\n").hexdigest()
    assert str(path.resolve()) in (isolated / ".verified.json").read_text()  # persisted for the next process
    fetch_module._memo.clear()
    monkeypatch.setattr(fetch_module.hashlib, "new", lambda *a: pytest.fail("re-hashed an unchanged file"))
    assert file_digests(path)["sha256"] == first
    monkeypatch.undo()
    monkeypatch.setenv("DCCA_DATA_DIR", str(isolated))
    before = os.stat(path)
    path.write_bytes(b"a;b\n1;3\n")  # same size; restore the mtime too: ctime still changes
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert file_digests(path)["sha256"] == hashlib.sha256(b"a;b\n1;3\n").hexdigest()


def _skab_file() -> DataFile:
    return get_dataset("skab").form("csv").file(SKAB_FILE)


def test_download_lands_verified_in_the_data_dir(http_root, isolated):
    www, base = http_root
    (www / "skab/valve1").mkdir(parents=True)
    shutil.copy(SHARED / SKAB_FILE, www / SKAB_FILE)
    path = download_file(_skab_file(), isolated, urls=(f"{base}/{SKAB_FILE}",), progressbar=False)
    assert path == isolated / SKAB_FILE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SKAB_SHA
    assert sorted(p.name for p in path.parent.iterdir()) == ["0.csv"]  # no temporary file left


def test_download_with_wrong_hash_raises_and_leaves_nothing(http_root, isolated):
    www, base = http_root
    (www / "skab/valve1").mkdir(parents=True)
    shutil.copy(SHARED / SKAB_FILE, www / SKAB_FILE)
    wrong = DataFile(SKAB_FILE, ("sha256:" + "0" * 64,))
    with pytest.raises(DataChecksumError) as info:
        download_file(wrong, isolated, urls=(f"{base}/{SKAB_FILE}",), progressbar=False)
    assert "0" * 64 in str(info.value) and SKAB_SHA in str(info.value)
    leftovers = [p for p in isolated.rglob("*") if p.is_file() and p.name != ".verified.json"]
    assert leftovers == []


def test_load_skab_downloads_through_a_mirror(http_root, isolated, monkeypatch):
    www, base = http_root
    shutil.copytree(SHARED / "skab", www / "skab")
    monkeypatch.setenv("DCCA_DATA_DOWNLOAD", "1")
    monkeypatch.setenv("DCCA_DATA_MIRROR", base)
    skab = load_skab()
    assert skab.n_rows == 46806 and len(skab.experiments) == 34
    assert len(list((isolated / "skab").rglob("*.csv"))) == 35
    again = load_skab()  # now found on disk, nothing fetched
    np.testing.assert_array_equal(again.experiments["other/14"].to_numpy(), skab.experiments["other/14"].to_numpy())


def test_failed_download_is_a_not_found_error_naming_the_url(http_root, isolated, monkeypatch):
    _, base = http_root  # serves an empty folder: every request is a 404
    monkeypatch.setenv("DCCA_DATA_DOWNLOAD", "1")
    monkeypatch.setenv("DCCA_DATA_MIRROR", base)
    with pytest.raises(DataNotFoundError, match=rf"Downloading failed:(.|\n)*{base}/tep/tep_braatz.npz"):
        load_tep()


def test_interrupted_download_leaves_no_file(http_root, isolated, monkeypatch):
    www, base = http_root
    (www / "skab/valve1").mkdir(parents=True)
    shutil.copy(SHARED / SKAB_FILE, www / SKAB_FILE)

    def half_then_interrupt(url, output_file, limits, progressbar):
        with open(output_file, "wb") as fh:
            fh.write(b"datetime;Accel")  # half a file, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch_module, "_stream_to_file", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        download_file(_skab_file(), isolated, urls=(f"{base}/{SKAB_FILE}",), progressbar=False)
    assert [p for p in isolated.rglob("*") if p.is_file() and p.name != ".verified.json"] == []
