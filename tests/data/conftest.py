"""Fixtures for the data-layer tests: an isolated data environment and local HTTP servers (127.0.0.1 only)."""

from __future__ import annotations

import functools
import http.server
import socket
import threading
import time

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


# Bound every misbehaving server's own lifetime, so even a client without timeouts ends a test.
_SERVER_GIVES_UP_S = 6.0


@pytest.fixture
def silent_url(monkeypatch):
    """Base URL of a TCP server on 127.0.0.1 that accepts connections and never sends a byte."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop, held = threading.Event(), []

    def accept_and_hold() -> None:
        deadline = time.monotonic() + _SERVER_GIVES_UP_S
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                held.append(server.accept()[0])
            except OSError:  # accept timed out: look at the clock and the stop flag again
                continue
        for conn in held:
            conn.close()
        server.close()  # connections still queued are refused, not left waiting

    thread = threading.Thread(target=accept_and_hold, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    server.close()


@pytest.fixture
def trickle_url(monkeypatch):
    """Base URL of an HTTP server on 127.0.0.1 that answers 200 with a 10,000-byte body at 1 byte/s."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    stop = threading.Event()

    class Trickle(_QuietHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "10000")
            self.end_headers()
            deadline = time.monotonic() + _SERVER_GIVES_UP_S
            try:
                while not stop.is_set() and time.monotonic() < deadline:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    stop.wait(1.0)
            except OSError:  # the client hung up
                pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    stop.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
