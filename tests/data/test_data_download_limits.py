"""Downloads end in seconds, not never: connect/read timeouts, a stall detector, and the next URL tried.

Every server here runs on 127.0.0.1 inside the test (see conftest.py); nothing else is contacted.
"""

from __future__ import annotations

import hashlib
import shutil
import time

import pytest

import dcca_core.data.fetch as fetch_module
from dcca_core.data import DataFile, DataNotFoundError, get_dataset
from dcca_core.data.fetch import DownloadStalledError, download_file, download_limits, repo_root

SHARED = repo_root().parent / "shared" / "data"
SKAB_FILE = "skab/valve1/0.csv"
SKAB_SHA = "16af3f71313a23dd33d9b7b8065d836d05c3f9257588881cc7fbe07c076d9dc8"
pytestmark = pytest.mark.timeout(30)  # a guard only: the servers hang up by themselves after 6 s


@pytest.fixture
def short_limits(monkeypatch):
    """Timeouts of a fraction of a second, so a dead server costs the test almost nothing."""
    for name in (
        "DCCA_DATA_CONNECT_TIMEOUT",
        "DCCA_DATA_READ_TIMEOUT",
        "DCCA_DATA_STALL_SECONDS",
        "DCCA_DATA_STALL_BYTES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(fetch_module, "CONNECT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(fetch_module, "READ_TIMEOUT_S", 0.5)


def _skab_file() -> DataFile:
    return get_dataset("skab").form("csv").file(SKAB_FILE)


def _files_under(root) -> list:
    return [p for p in root.rglob("*") if p.is_file() and p.name != ".verified.json"]


def test_silent_server_times_out_fast_and_the_error_names_the_next_url(silent_url, isolated, short_limits):
    first, second = f"{silent_url}/a/{SKAB_FILE}", f"{silent_url}/b/{SKAB_FILE}"
    started = time.monotonic()
    with pytest.warns(UserWarning, match=f"{first}.*trying {second} next"):
        with pytest.raises(DataNotFoundError) as info:
            download_file(_skab_file(), isolated, urls=(first, second), progressbar=False)
    assert time.monotonic() - started < 4  # two dead URLs at 0.5 s each, not 2 x 60 s
    message = str(info.value)
    assert f"{first}: no data for 0.5 s (DCCA_DATA_READ_TIMEOUT); trying {second} next" in message
    assert f"{second}: no data for 0.5 s (DCCA_DATA_READ_TIMEOUT); no other source left" in message
    assert "by hand" in message and str(isolated / SKAB_FILE) in message
    assert _files_under(isolated) == []


def test_trickling_server_is_aborted_by_the_stall_detector(trickle_url, isolated, short_limits, monkeypatch):
    monkeypatch.setattr(fetch_module, "READ_TIMEOUT_S", 3.0)  # longer than the 1 s between bytes: never fires
    monkeypatch.setattr(fetch_module, "STALL_SECONDS", 1.5)
    monkeypatch.setattr(fetch_module, "STALL_BYTES", 100)
    url = f"{trickle_url}/{SKAB_FILE}"
    started = time.monotonic()
    with pytest.raises(DataNotFoundError) as info:
        download_file(_skab_file(), isolated, urls=(url,), progressbar=False)
    assert time.monotonic() - started < 4
    message = str(info.value)
    assert f"{url}: stalled:" in message and "fewer than 100 (DCCA_DATA_STALL_BYTES) per 1.5 s" in message
    assert "no other source left" in message and str(isolated / SKAB_FILE) in message
    assert _files_under(isolated) == []  # the bytes that did arrive never land under the real name


def test_after_a_silent_server_the_next_url_is_downloaded(silent_url, http_root, isolated, short_limits):
    www, base = http_root
    (www / "skab/valve1").mkdir(parents=True)
    shutil.copy(SHARED / SKAB_FILE, www / SKAB_FILE)
    dead, good = f"{silent_url}/{SKAB_FILE}", f"{base}/{SKAB_FILE}"
    started = time.monotonic()
    with pytest.warns(UserWarning, match=f"{dead}: no data for 0.5 s.*trying {good} next"):
        path = download_file(_skab_file(), isolated, urls=(dead, good), progressbar=False)
    assert time.monotonic() - started < 4
    assert path == isolated / SKAB_FILE and hashlib.sha256(path.read_bytes()).hexdigest() == SKAB_SHA
    assert _files_under(isolated) == [path]


def test_download_limits_come_from_constants_and_environment(monkeypatch):
    monkeypatch.setattr(fetch_module, "CONNECT_TIMEOUT_S", 7.0)
    monkeypatch.setenv("DCCA_DATA_READ_TIMEOUT", "2.5")
    monkeypatch.setenv("DCCA_DATA_STALL_BYTES", "4096")
    monkeypatch.setenv("DCCA_DATA_STALL_SECONDS", "")  # empty: the default
    limits = download_limits()
    assert (limits.connect_s, limits.read_s, limits.stall_bytes) == (7.0, 2.5, 4096)
    assert limits.stall_s == fetch_module.STALL_SECONDS
    for bad in ("soon", "0", "-1", "nan"):
        monkeypatch.setenv("DCCA_DATA_CONNECT_TIMEOUT", bad)
        with pytest.raises(ValueError, match=f"DCCA_DATA_CONNECT_TIMEOUT='{bad}' must be a positive number"):
            download_limits()


def test_stall_detector_passes_a_steady_stream_and_stops_a_trickle(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(fetch_module.time, "monotonic", lambda: clock[0])
    limits = fetch_module.DownloadLimits(connect_s=1, read_s=1, stall_bytes=1000, stall_s=2)
    steady = fetch_module._StallDetector("http://127.0.0.1/x", limits)
    for _ in range(100):  # 600 bytes every 0.5 s: 2,400 per window
        clock[0] += 0.5
        steady.received(600)
    slow = fetch_module._StallDetector("http://127.0.0.1/y", limits)
    clock[0] += 1.0
    slow.received(900)  # 900 bytes in the first second, then a trickle
    clock[0] += 0.9
    slow.received(1)  # 1.9 s: the 2 s window is not full yet, so no verdict
    clock[0] += 1.0
    with pytest.raises(DownloadStalledError, match=r"stalled: 902 bytes in the last 2\.9 s, fewer than 1000"):
        slow.received(1)  # 2.9 s: fewer than 1,000 bytes since a moment at least 2 s ago
