"""A malformed `<data dir>/.verified.json` is an untrusted cache: warned about, re-hashed, rebuilt."""

from __future__ import annotations

import hashlib
import json
import re
import warnings

import pytest

import dcca_core.data.fetch as fetch_module
from dcca_core.data import DataFile, file_digests, verify_file

CONTENT = b"a;b\n1;2\n"
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def data_file(isolated):
    """(file, its cache key, its stat as cached) in an isolated data dir with an empty in-memory memo."""
    path = isolated / "x.csv"
    path.write_bytes(CONTENT)
    st = path.stat()
    fetch_module._memo.clear()
    yield path, str(path.resolve()), [st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    fetch_module._memo.clear()


MALFORMED = {  # name: the cache's JSON text, given (key, stat)
    "list": lambda key, stat: json.dumps([key, stat]),
    "number": lambda key, stat: "42",
    "string": lambda key, stat: json.dumps(key),
    "entry is a string": lambda key, stat: json.dumps({key: SHA}),
    "entry is an int": lambda key, stat: json.dumps({key: 7}),
    "no digests": lambda key, stat: json.dumps({key: {"stat": stat}}),
    "no stat": lambda key, stat: json.dumps({key: {"digests": {"sha256": "0" * 64}}}),
    "stat not a list": lambda key, stat: json.dumps({key: {"stat": "today", "digests": {"sha256": "0" * 64}}}),
    "digests a list": lambda key, stat: json.dumps({key: {"stat": stat, "digests": ["0" * 64]}}),
    "digest an int": lambda key, stat: json.dumps({key: {"stat": stat, "digests": {"sha256": 0}}}),
    "digest too short": lambda key, stat: json.dumps({key: {"stat": stat, "digests": {"sha256": "00"}}}),
    "one sound digest, one bad": lambda key, stat: json.dumps(
        {key: {"stat": stat, "digests": {"sha256": "0" * 64, "md5": None}}}
    ),
    "invalid JSON": lambda key, stat: '{"' + key + '": {"stat": [1, 2',
    "not UTF-8": lambda key, stat: "\udcff",
}


@pytest.mark.parametrize("shape", list(MALFORMED))
def test_malformed_cache_is_warned_about_rehashed_and_rebuilt(data_file, isolated, shape):
    path, key, stat = data_file
    cache = isolated / ".verified.json"
    cache.write_bytes(MALFORMED[shape](key, stat).encode("utf-8", "surrogateescape"))
    with pytest.warns(UserWarning, match=rf"ignoring the digest cache {re.escape(str(cache))}: .*hashed again"):
        digests = file_digests(path)
    assert digests == {"sha256": SHA}  # re-hashed: never the cached zeros
    rebuilt = json.loads(cache.read_text())
    assert rebuilt == {key: {"stat": stat, "digests": {"sha256": SHA}}}
    fetch_module._memo.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt cache is sound: no second warning
        assert verify_file(path, DataFile("x.csv", (f"sha256:{SHA}",))) == path


def test_sound_entries_survive_beside_a_malformed_one(data_file, isolated):
    path, key, stat = data_file
    other = {"stat": [1, 2, 3], "digests": {"md5": "a" * 32}}
    cache = isolated / ".verified.json"
    cache.write_text(json.dumps({"/elsewhere/y.npz": other, key: "garbage"}))
    with pytest.warns(UserWarning, match=r"1 of its 2 entries are malformed \(e\.g\. '.*x\.csv'\)"):
        assert file_digests(path) == {"sha256": SHA}
    assert json.loads(cache.read_text()) == {"/elsewhere/y.npz": other, key: {"stat": stat, "digests": {"sha256": SHA}}}


def test_sound_cache_is_trusted_without_a_warning(data_file, isolated, monkeypatch):
    path, key, stat = data_file
    (isolated / ".verified.json").write_text(json.dumps({key: {"stat": stat, "digests": {"sha256": SHA}}}))
    monkeypatch.setattr(fetch_module.hashlib, "new", lambda *a: pytest.fail("re-hashed a file with a sound entry"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert file_digests(path) == {"sha256": SHA}
