"""Finding, verifying and downloading data files.

Every file is looked for, in order, in the data dir (`$DCCA_DATA_DIR`, else `<repo>/data` in a
checkout, else the per-user cache folder, see `dcca_core.paths.writable_dir`), `<repo>/data`,
`./data`, `<repo>/../shared/data` (the last two `<repo>` ones only in a checkout) and a data set's
system folder (Fashion-MNIST's Debian package); `$DCCA_DATA_SEARCH` (folders separated by
`os.pathsep`) replaces everything after the data dir.
A file found is verified by its digest before use; the digest is cached per (path, size, mtime,
ctime) in `<data dir>/.verified.json`, so a second load does not re-hash 170 MB, while a changed
file is hashed again. A malformed cache is warned about, never trusted, and rebuilt.
When no complete form is on disk, the publisher's files are downloaded into the data dir: the
download streams into a temporary file that pooch moves into place only after its digest matched,
so no half-written file is ever left under the real name. A server that does not connect within
`DCCA_DATA_CONNECT_TIMEOUT` s, sends nothing for `DCCA_DATA_READ_TIMEOUT` s, or sends fewer than
`DCCA_DATA_STALL_BYTES` bytes over the last `DCCA_DATA_STALL_SECONDS` s is given up on, and the next
URL of the file is tried. `DCCA_DATA_DOWNLOAD=0` switches downloading off;
`DCCA_DATA_MIRROR=<base URL>` fetches every file from `<base URL>/<registry path>` instead (a copy
of a data folder served over HTTP).
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..paths import checkout_root, repo_root, writable_dir
from .registry import DataFile, DataForm, Dataset, get_dataset

__all__ = [
    "DataNotFoundError",
    "DataChecksumError",
    "DataFormatError",
    "DownloadStalledError",
    "repo_root",
    "data_dir",
    "search_roots",
    "candidate_paths",
    "find_file",
    "file_digests",
    "verify_file",
    "download_file",
    "download_limits",
    "DownloadLimits",
    "fetch_dataset",
    "locate",
]


class DataNotFoundError(FileNotFoundError):
    """A data file is in none of the places looked and could not be downloaded."""


class DataChecksumError(ValueError):
    """A data file's digest differs from the registry's: it is damaged or a different file."""


class DataFormatError(ValueError):
    """A data file could not be read as the format it should have (truncated or wrong file)."""


class DownloadStalledError(TimeoutError):
    """A server kept the connection open but sent too few bytes to ever finish the download."""


_HASH_CHUNK = 1 << 20
_READ_CHUNK = 1 << 16
_memo: dict[str, dict] = {}  # resolved path -> {"stat": [...], "digests": {algo: hex}}

#: Download limits; each is read at download time and can be overridden by the variable named beside it.
CONNECT_TIMEOUT_S = 10.0  # DCCA_DATA_CONNECT_TIMEOUT: seconds to open a connection
READ_TIMEOUT_S = 30.0  # DCCA_DATA_READ_TIMEOUT: seconds a server may send nothing at all
STALL_SECONDS = 60.0  # DCCA_DATA_STALL_SECONDS: the window of the stall detector ...
STALL_BYTES = 64 * 1024  # DCCA_DATA_STALL_BYTES: ... which aborts when fewer bytes arrived in it


def data_dir() -> Path:
    """Where downloads and the verification cache go: `dcca_core.paths.writable_dir("data")`."""
    return writable_dir("data")


def download_enabled() -> bool:
    """False when `DCCA_DATA_DOWNLOAD` is 0/false/no/off."""
    return os.environ.get("DCCA_DATA_DOWNLOAD", "1").strip().lower() not in ("0", "false", "no", "off")


def search_roots(dataset: Dataset | None = None) -> list[tuple[Path, str]]:
    """The folders looked in, in order, each with the registry path prefix it holds ("" = any)."""
    roots: list[tuple[Path, str]] = [(data_dir(), "")]
    override = os.environ.get("DCCA_DATA_SEARCH")
    if override is not None:
        roots += [(Path(p).expanduser(), "") for p in override.split(os.pathsep) if p]
    else:
        repo = checkout_root()
        roots += [(repo / "data", "")] if repo is not None else []
        roots += [(Path.cwd() / "data", "")]
        roots += [(repo.parent / "shared" / "data", "")] if repo is not None else []
        if dataset is not None:
            roots += [(Path(folder), prefix) for folder, prefix in dataset.system_dirs]
    unique, seen = [], set()
    for folder, prefix in roots:
        key = (str(folder.resolve()), prefix)
        if key not in seen:
            seen.add(key)
            unique.append((folder, prefix))
    return unique


def candidate_paths(dataset: Dataset, file: DataFile) -> list[Path]:
    """Every place `file` is looked for, in order."""
    out = []
    for folder, prefix in search_roots(dataset):
        if not prefix:
            out.append(folder / file.path)
        elif file.path.startswith(prefix + "/"):
            out.append(folder / file.path[len(prefix) + 1 :])
    return out


def find_file(dataset: Dataset, file: DataFile) -> Path | None:
    """The first existing candidate path of `file`, or None."""
    return next((p for p in candidate_paths(dataset, file) if p.is_file()), None)


# ---------------------------------------------------------------- digests with a cache


def _cache_path() -> Path:
    """The digest cache of the data dir."""
    return data_dir() / ".verified.json"


# Hex digest lengths of the algorithms the registry uses; another algorithm needs only a hex string.
_HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}


def _valid_digest(algo: object, hexdigest: object) -> bool:
    """True for an algorithm name with a lower-case hex digest of the right length."""
    if not isinstance(algo, str) or not isinstance(hexdigest, str) or not re.fullmatch(r"[0-9a-f]+", hexdigest):
        return False
    return len(hexdigest) == _HEX_LENGTHS.get(algo, len(hexdigest))


def _valid_entry(entry: object) -> bool:
    """True for `{"stat": [size, mtime_ns, ctime_ns], "digests": {algo: hex}}`, the only shape trusted."""
    if not isinstance(entry, dict):
        return False
    stat, digests = entry.get("stat"), entry.get("digests")
    if not (isinstance(stat, list) and len(stat) == 3 and all(type(v) is int for v in stat)):
        return False
    return isinstance(digests, dict) and all(_valid_digest(a, h) for a, h in digests.items())


def _cache_problem(raw: object) -> str | None:
    """Why a parsed cache cannot be trusted as a whole or in part, or None when every entry is sound."""
    if not isinstance(raw, dict):
        return f"it holds a JSON {type(raw).__name__}, not an object mapping file paths to entries"
    bad = [key for key, entry in raw.items() if not _valid_entry(entry)]
    if bad:
        return (
            f"{len(bad)} of its {len(raw)} entries are malformed (e.g. {bad[0]!r}); each must be "
            '{"stat": [size, mtime_ns, ctime_ns], "digests": {algorithm: hex digest}}'
        )
    return None


def _read_cache() -> dict[str, dict]:
    """The sound entries of the digest cache; a malformed cache is warned about, never trusted, and rebuilt."""
    path = _cache_path()
    try:
        blob = path.read_bytes()
    except OSError:  # missing or unreadable: nothing to trust
        return {}
    try:
        raw: object = json.loads(blob)
        problem = _cache_problem(raw)
    except ValueError as exc:  # invalid JSON or not UTF-8
        raw, problem = {}, f"it is not valid JSON ({exc})"
    if problem is None:
        return raw  # type: ignore[return-value]
    sound = {k: v for k, v in raw.items() if _valid_entry(v)} if isinstance(raw, dict) else {}
    warnings.warn(
        f"ignoring the digest cache {path}: {problem}. The files it lists are hashed again and the "
        f"cache is rebuilt; nothing in it was trusted.",
        stacklevel=3,
    )
    _replace_cache(path, sound)
    return sound


def _replace_cache(path: Path, cache: dict[str, dict]) -> None:
    """Write the whole cache atomically (temp file + rename); a read-only data dir just keeps it in memory."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".verified.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(cache, fh, indent=1, sort_keys=True)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    except OSError:
        pass


def _write_cache(key: str, entry: dict) -> None:
    """Merge one entry into the JSON cache atomically."""
    cache = _read_cache()
    cache[key] = entry
    _replace_cache(_cache_path(), cache)


def _hash_file(path: str | Path, algorithms: tuple[str, ...]) -> dict[str, str]:
    """Hex digests of a file, read once in chunks (no cache)."""
    hashers = {a: hashlib.new(a) for a in algorithms}
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            for h in hashers.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def file_digests(path: str | Path, algorithms: tuple[str, ...] = ("sha256",)) -> dict[str, str]:
    """Hex digests of a file, hashed once per (path, size, mtime, ctime) and cached."""
    path = Path(path)
    st = path.stat()
    stat = [st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    key = str(path.resolve())
    entry = _memo.get(key) or _read_cache().get(key)
    known = dict(entry["digests"]) if entry and entry.get("stat") == stat else {}
    missing = [a for a in algorithms if a not in known]
    if missing:
        known.update(_hash_file(path, tuple(missing)))
        _write_cache(key, {"stat": stat, "digests": known})
    _memo[key] = {"stat": stat, "digests": known}
    return {a: known[a] for a in algorithms}


def _split_hash(spec: str) -> tuple[str, str]:
    algo, _, hexdigest = spec.partition(":")
    return algo.lower(), hexdigest.lower()


def verify_file(path: str | Path, file: DataFile, dataset: Dataset | None = None) -> Path:
    """Return `path` if its digest is one the registry accepts for `file`, else raise DataChecksumError."""
    path = Path(path)
    accepted = [_split_hash(h) for h in file.hashes]
    actual: dict[str, str] = {}
    for algo in dict.fromkeys(a for a, _ in accepted):  # md5 is computed only if no sha256 matched
        actual.update(file_digests(path, (algo,)))
        if any(actual[algo] == h for a, h in accepted if a == algo):
            return path
    algo, expected = accepted[0]
    others = f" (also accepted: {', '.join(file.hashes[1:])})" if len(file.hashes) > 1 else ""
    where = f" of data set {dataset.name!r}" if dataset else ""
    raise DataChecksumError(
        f"checksum mismatch for {path} (file {file.path!r}{where}):\n"
        f"  expected {algo} {expected}{others}\n"
        f"  actual   {algo} {actual[algo]}\n"
        f"The file is damaged, truncated or a different version. Delete it and load again "
        f"(it is then taken from the next folder or downloaded), or copy a good one there"
        + (f": {dataset.how_to_get}." if dataset else ".")
    )


# ---------------------------------------------------------------- downloading


def _urls(file: DataFile) -> tuple[str, ...]:
    """The URLs `file` is downloaded from, in order: the mirror's alone when DCCA_DATA_MIRROR is set."""
    mirror = os.environ.get("DCCA_DATA_MIRROR")
    return (mirror.rstrip("/") + "/" + file.path,) if mirror else file.urls


@dataclass(frozen=True)
class DownloadLimits:
    """When a download is given up on: no connection, no byte at all, or too few bytes over a window."""

    connect_s: float  # seconds to open the connection
    read_s: float  # seconds without a single byte (headers or body)
    stall_bytes: int  # abort when fewer bytes than this arrived ...
    stall_s: float  # ... over the last this many seconds


def _env_number(name: str, default: float) -> float:
    """A positive number from environment variable `name`, else `default`; a bad value is an error naming it."""
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ValueError(f"environment variable {name}={text!r} must be a positive number (default {default:g})")
    return value


def download_limits() -> DownloadLimits:
    """The limits downloads run under: the module constants, each overridden by its environment variable."""
    return DownloadLimits(
        connect_s=_env_number("DCCA_DATA_CONNECT_TIMEOUT", CONNECT_TIMEOUT_S),
        read_s=_env_number("DCCA_DATA_READ_TIMEOUT", READ_TIMEOUT_S),
        stall_bytes=int(_env_number("DCCA_DATA_STALL_BYTES", STALL_BYTES)),
        stall_s=_env_number("DCCA_DATA_STALL_SECONDS", STALL_SECONDS),
    )


class _StallDetector:
    """Counts the bytes of one download and raises DownloadStalledError when the last window got too few."""

    def __init__(self, url: str, limits: DownloadLimits) -> None:
        self.url, self.limits, self.total = url, limits, 0
        self.samples = collections.deque([(time.monotonic(), 0)])  # (time, bytes so far), oldest first

    def received(self, n: int) -> None:
        """Record `n` more bytes and check the rate over the last window."""
        now = time.monotonic()
        self.total += n
        self.samples.append((now, self.total))
        start = now - self.limits.stall_s
        while len(self.samples) > 1 and self.samples[1][0] <= start:  # keep one sample at or before `start`
            self.samples.popleft()
        since, bytes_then = self.samples[0]
        if since <= start and self.total - bytes_then < self.limits.stall_bytes:
            raise DownloadStalledError(
                f"stalled: {self.total - bytes_then} bytes in the last {now - since:.1f} s, fewer than "
                f"{self.limits.stall_bytes} (DCCA_DATA_STALL_BYTES) per {self.limits.stall_s:g} s "
                f"(DCCA_DATA_STALL_SECONDS); {self.total} bytes in all"
            )


def _stream_to_file(url: str, output_file: str, limits: DownloadLimits, progressbar: bool) -> None:
    """GET `url` into `output_file` under `limits`: connect and read timeouts, and the stall detector."""
    import requests
    from tqdm import tqdm

    with requests.get(url, stream=True, timeout=(limits.connect_s, limits.read_s)) as response:
        response.raise_for_status()
        raw = response.raw
        read = getattr(raw, "read1", None) or raw.read  # read1: returns as soon as some bytes arrived
        total = int(response.headers.get("content-length") or 0) or None
        stall = _StallDetector(url, limits)
        with (
            open(output_file, "wb") as fh,
            tqdm(
                total=total, unit="B", unit_scale=True, leave=True, disable=not progressbar, desc=url.rsplit("/", 1)[-1]
            ) as bar,
        ):
            while chunk := read(_READ_CHUNK, decode_content=True):
                fh.write(chunk)
                bar.update(len(chunk))
                stall.received(len(chunk))


def _failure_reason(exc: BaseException, limits: DownloadLimits) -> str:
    """One line saying why a download failed, naming the limit that ended it."""
    import requests
    import urllib3

    if isinstance(exc, DownloadStalledError):
        return str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"no connection within {limits.connect_s:g} s (DCCA_DATA_CONNECT_TIMEOUT)"
    if isinstance(exc, (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError)):
        return f"no data for {limits.read_s:g} s (DCCA_DATA_READ_TIMEOUT)"
    return f"{type(exc).__name__}: {exc}"


def download_file(
    file: DataFile,
    dest_root: str | Path | None = None,
    *,
    urls: tuple[str, ...] | None = None,
    known_hash: str | None = None,
    progressbar: bool = True,
) -> Path:
    """Download `file` to `<dest_root>/<file.path>`, trying its URLs in order, checked against the publisher's digest.

    pooch hands the downloader a temporary file beside the target and moves it into place only when
    the digest matched, so an interrupt, a timeout or a bad download never leaves a file under the
    real name. A URL that times out, stalls or fails is reported (with the URL tried next) and the
    next one is tried; a digest mismatch stops at once.
    """
    import pooch
    import requests
    import urllib3

    dest = Path(dest_root if dest_root is not None else data_dir()) / file.path
    urls = tuple(urls) if urls is not None else _urls(file)
    known_hash = known_hash or file.download_hash
    if not urls:
        raise DataNotFoundError(f"{file.path!r} has no download source")
    algo, expected = _split_hash(known_hash)
    limits = download_limits()
    seen: dict[str, str] = {}

    def downloader(url: str, output_file: str, pooch_obj: object) -> None:
        _stream_to_file(url, output_file, limits, progressbar)
        seen["actual"] = _hash_file(output_file, (algo,))[algo]

    errors = []
    for i, url in enumerate(urls):
        seen.clear()
        try:
            pooch.retrieve(url, known_hash=known_hash, fname=dest.name, path=dest.parent, downloader=downloader)
            return dest
        except ValueError:
            if seen.get("actual", expected) == expected:  # not a digest mismatch
                raise
            raise DataChecksumError(
                f"checksum mismatch for the download of {file.path!r} from {url}:\n"
                f"  expected {algo} {expected}\n  actual   {algo} {seen['actual']}\n"
                f"Nothing was saved. The server sent a different file; try again later or get the file "
                f"another way and put it at {dest}."
            ) from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            reason = _failure_reason(exc, limits)
            if i + 1 < len(urls):
                errors.append(f"{url}: {reason}; trying {urls[i + 1]} next")
                warnings.warn(f"download of {file.path!r} failed: {errors[-1]}", stacklevel=2)
            else:
                errors.append(f"{url}: {reason}; no other source left")
    raise DataNotFoundError(
        f"could not download {file.path!r}; nothing was saved:\n  " + "\n  ".join(errors) + "\n"
        f"Get it by hand: fetch one of the URLs above when it answers (browser, curl -LO), or copy the file "
        f"from another machine, and put it at {dest}; or point DCCA_DATA_DIR at a folder that has it."
    )


# ---------------------------------------------------------------- resolving a data set


def fetch_dataset(name: str, form: str | None = None) -> tuple[str, dict[str, Path]]:
    """Verified local paths of a complete form of data set `name`: `(form_name, {registry path: path})`.

    Takes the first form whose files are all on disk; else downloads the first downloadable form
    (keeping any of its files already present); else raises DataNotFoundError.
    """
    dataset = get_dataset(name)
    forms = (dataset.form(form),) if form is not None else dataset.forms
    for f in forms:
        found = {df.path: find_file(dataset, df) for df in f.files}
        if all(found.values()):
            return f.name, {p: verify_file(found[p], f.file(p), dataset) for p in found}
    mirror = bool(os.environ.get("DCCA_DATA_MIRROR"))
    download_errors: list[str] = []
    if download_enabled():
        for f in forms:
            if f.downloadable or mirror:
                try:
                    return f.name, _download_form(dataset, f)
                except DataNotFoundError as exc:
                    download_errors.append(str(exc))
    raise DataNotFoundError(_not_found_message(dataset, forms, download_errors))


def _download_form(dataset: Dataset, form: DataForm) -> dict[str, Path]:
    paths = {}
    for df in form.files:
        local = find_file(dataset, df)
        paths[df.path] = verify_file(local, df, dataset) if local else verify_file(download_file(df), df, dataset)
    return paths


def _not_found_message(dataset: Dataset, forms: tuple[DataForm, ...], download_errors: list[str]) -> str:
    lines = [f"data set {dataset.name!r} ({dataset.title}) is not available."]
    for f in forms:
        missing = [df for df in f.files if find_file(dataset, df) is None]
        shown = ", ".join(df.path for df in missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        lines.append(f"  form {f.name!r}: missing {shown}")
    first_missing = next(df for f in forms for df in f.files if find_file(dataset, df) is None)
    lines.append(f"Looked for {first_missing.path!r} (and the others likewise) in:")
    lines += [f"  {p}" for p in candidate_paths(dataset, first_missing)]
    if not download_enabled():
        lines.append("Downloading is switched off (DCCA_DATA_DOWNLOAD=0).")
    elif download_errors:
        lines.append("Downloading failed:")
        lines += ["  " + e.replace("\n", "\n  ") for e in download_errors]
    else:
        lines.append("This data set has no download source for these forms.")
    lines.append(f"How to get it: {dataset.how_to_get}.")
    lines.append("Set DCCA_DATA_DIR to a folder holding the files to use another location.")
    return "\n".join(lines)


def locate(name: str) -> str | None:
    """Where data set `name` would be read from without downloading or hashing, or None."""
    dataset = get_dataset(name)
    for f in dataset.forms:
        found = [find_file(dataset, df) for df in f.files]
        if all(found):
            return f"{f.name}: {os.path.commonpath([str(p.parent) for p in found])}"
    return None
