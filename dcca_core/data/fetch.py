"""Finding, verifying and downloading data files.

Every file is looked for, in order, in `$DCCA_DATA_DIR`, `<repo>/data`, `./data`,
`<repo>/../shared/data` and a data set's system folder (Fashion-MNIST's Debian package);
`$DCCA_DATA_SEARCH` (folders separated by `os.pathsep`) replaces everything after `$DCCA_DATA_DIR`.
A file found is verified by its digest before use; the digest is cached per (path, size, mtime,
ctime) in `<data dir>/.verified.json`, so a second load does not re-hash 170 MB, while a changed
file is hashed again. When no complete form is on disk, the publisher's files are downloaded with
pooch into the data dir (`$DCCA_DATA_DIR`, else `<repo>/data`): pooch writes to a temporary file and
moves it into place only after its digest matched, so no half-written file is ever left under the
real name. `DCCA_DATA_DOWNLOAD=0` switches downloading off; `DCCA_DATA_MIRROR=<base URL>` fetches
every file from `<base URL>/<registry path>` instead (a copy of a data folder served over HTTP).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .registry import DataFile, DataForm, Dataset, get_dataset
from ..paths import repo_root

__all__ = [
    "DataNotFoundError", "DataChecksumError", "DataFormatError",
    "repo_root", "data_dir", "search_roots", "candidate_paths", "find_file",
    "file_digests", "verify_file", "download_file", "fetch_dataset", "locate",
]


class DataNotFoundError(FileNotFoundError):
    """A data file is in none of the places looked and could not be downloaded."""


class DataChecksumError(ValueError):
    """A data file's digest differs from the registry's: it is damaged or a different file."""


class DataFormatError(ValueError):
    """A data file could not be read as the format it should have (truncated or wrong file)."""


_HASH_CHUNK = 1 << 20
_memo: dict[str, dict] = {}  # resolved path -> {"stat": [...], "digests": {algo: hex}}


def data_dir() -> Path:
    """Where downloads and the verification cache go: `$DCCA_DATA_DIR`, else `<repo>/data`."""
    env = os.environ.get("DCCA_DATA_DIR")
    return Path(env).expanduser() if env else repo_root() / "data"


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
        repo = repo_root()
        roots += [(repo / "data", ""), (Path.cwd() / "data", ""), (repo.parent / "shared" / "data", "")]
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
            out.append(folder / file.path[len(prefix) + 1:])
    return out


def find_file(dataset: Dataset, file: DataFile) -> Path | None:
    """The first existing candidate path of `file`, or None."""
    return next((p for p in candidate_paths(dataset, file) if p.is_file()), None)


# ---------------------------------------------------------------- digests with a cache

def _cache_path() -> Path:
    return data_dir() / ".verified.json"


def _read_cache() -> dict:
    try:
        return json.loads(_cache_path().read_text())
    except (OSError, ValueError):
        return {}


def _write_cache(key: str, entry: dict) -> None:
    """Merge one entry into the JSON cache atomically; a read-only data dir just keeps it in memory."""
    path = _cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        cache = _read_cache()
        cache[key] = entry
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
        hashers = {a: hashlib.new(a) for a in missing}
        with open(path, "rb") as fh:
            while chunk := fh.read(_HASH_CHUNK):
                for h in hashers.values():
                    h.update(chunk)
        known.update({a: h.hexdigest() for a, h in hashers.items()})
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
        + (f": {dataset.how_to_get}." if dataset else "."))


# ---------------------------------------------------------------- downloading

def _urls(file: DataFile) -> tuple[str, ...]:
    mirror = os.environ.get("DCCA_DATA_MIRROR")
    return (mirror.rstrip("/") + "/" + file.path,) if mirror else file.urls


def download_file(file: DataFile, dest_root: str | Path | None = None, *, urls: tuple[str, ...] | None = None,
                  known_hash: str | None = None, progressbar: bool = True) -> Path:
    """Download `file` to `<dest_root>/<file.path>` with pooch, checked against the publisher's digest.

    pooch streams into a temporary file beside the target and moves it into place only when the
    digest matched, so an interrupt or a bad download never leaves a file under the real name.
    """
    import pooch
    import requests

    dest = Path(dest_root if dest_root is not None else data_dir()) / file.path
    urls = tuple(urls) if urls is not None else _urls(file)
    known_hash = known_hash or file.download_hash
    if not urls:
        raise DataNotFoundError(f"{file.path!r} has no download source")
    algo, expected = _split_hash(known_hash)
    seen: dict[str, str] = {}

    def downloader(url: str, output_file: str, pooch_obj: object) -> None:
        pooch.HTTPDownloader(progressbar=progressbar, timeout=60)(url, output_file, pooch_obj)
        seen["actual"] = file_digests(output_file, (algo,))[algo]

    errors = []
    for url in urls:
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
                f"another way and put it at {dest}.") from None
        except (requests.exceptions.RequestException, OSError) as exc:
            errors.append(f"{url}: {type(exc).__name__}: {exc}")
    raise DataNotFoundError(f"could not download {file.path!r}:\n  " + "\n  ".join(errors))


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
