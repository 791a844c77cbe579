"""Fixtures for the data-layer tests: an isolated data environment and a local HTTP server."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Empty data dir and search path, downloading off: nothing can be found unless a test puts it there."""
    data, empty = tmp_path / "data", tmp_path / "empty"
    data.mkdir()
    empty.mkdir()
    monkeypatch.setenv("DCCA_DATA_DIR", str(data))
    monkeypatch.setenv("DCCA_DATA_SEARCH", str(empty))
    monkeypatch.setenv("DCCA_DATA_DOWNLOAD", "0")
    monkeypatch.delenv("DCCA_DATA_MIRROR", raising=False)
    return data


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path, monkeypatch):
    """(folder, base URL) of an HTTP server on 127.0.0.1 serving that folder, in a thread."""
    root = tmp_path / "www"
    root.mkdir()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
