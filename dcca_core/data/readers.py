"""Readers for the on-disk forms: our `.npz` files and the publishers' originals (IDX, CIFAR-10
python batches, SKAB CSVs, Braatz `.dat`). Each turns any failure to parse into a DataFormatError
that names the file, so a damaged file never surfaces as a raw numpy/pandas/zipfile traceback."""

from __future__ import annotations

import gzip
import pickle
import tarfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from .fetch import DataFormatError

__all__ = [
    "read_npz",
    "read_idx",
    "read_cifar_python",
    "read_skab_csv",
    "read_tep_dat",
    "SKAB_CHANNELS",
    "TEP_VAR_NAMES",
]

_READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    IndexError,
    zipfile.BadZipFile,
    zlib.error,
    tarfile.TarError,
    pickle.UnpicklingError,
    pd.errors.ParserError,
)


@contextmanager
def _reading(path: str | Path, what: str) -> Iterator[None]:
    """Re-raise any parse failure as one DataFormatError naming the file and what was expected."""
    try:
        yield
    except DataFormatError:
        raise
    except _READ_ERRORS as exc:
        raise DataFormatError(
            f"cannot read {path} as {what}: {type(exc).__name__}: {exc}. The file is damaged or not "
            f"the expected file; delete it and load again to fetch a good copy."
        ) from None


def read_npz(path: str | Path, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """The arrays `keys` of an `.npz` file (no pickles allowed)."""
    with _reading(path, f"an .npz archive with arrays {list(keys)}"), np.load(path, allow_pickle=False) as npz:
        missing = [k for k in keys if k not in npz.files]
        if missing:
            raise KeyError(f"arrays {missing} absent (it has {npz.files})")
        return {k: npz[k] for k in keys}


def read_idx(path: str | Path) -> np.ndarray:
    """An unsigned-byte IDX file (MNIST's format; gzipped or not) as a uint8 array of its shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with _reading(path, "an IDX file"), opener(path, "rb") as fh:
        head = fh.read(4)
        if len(head) != 4 or head[:2] != b"\x00\x00" or head[2] != 0x08:
            raise ValueError(f"bad magic {head!r} (expected 00 00 08 <ndim> for unsigned bytes)")
        shape = tuple(int(d) for d in np.frombuffer(fh.read(4 * head[3]), dtype=">u4"))
        if len(shape) != head[3]:
            raise EOFError("header ends early")
        out = np.empty(shape, dtype=np.uint8)
        if fh.readinto(memoryview(out).cast("B")) != out.size or fh.read(1):
            raise ValueError(f"payload size does not match the header shape {shape}")
    return out


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds numpy arrays and nothing else (CIFAR batches are pickles)."""

    _allowed = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._allowed:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")
        return super().find_class(module.replace("numpy.core.", "numpy._core."), name)


def read_cifar_python(path: str | Path, split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images (N,32,32,3) uint8 RGB, labels and class names of one split from `cifar-10-python.tar.gz`."""
    wanted = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    batches: dict[str, dict] = {}
    with _reading(path, "the CIFAR-10 python archive"), tarfile.open(path, "r:gz") as tar:
        for member in tar:  # one sequential pass through the gzip stream
            base = member.name.rsplit("/", 1)[-1]
            if base in wanted or base == "batches.meta":
                batches[base] = _NumpyOnlyUnpickler(tar.extractfile(member), encoding="bytes").load()
        missing = [b for b in wanted + ["batches.meta"] if b not in batches]
        if missing:
            raise KeyError(f"members {missing} absent")
        data = np.concatenate([np.asarray(batches[b][b"data"], dtype=np.uint8) for b in wanted])
        images = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels = np.concatenate([np.asarray(batches[b][b"labels"], dtype=np.int64) for b in wanted])
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in batches["batches.meta"][b"label_names"]]
    return images, labels, names


SKAB_CHANNELS = [
    "Accelerometer1RMS",
    "Accelerometer2RMS",
    "Current",
    "Pressure",
    "Temperature",
    "Thermocouple",
    "Voltage",
    "Volume Flow RateRMS",
]


def read_skab_csv(path: str | Path, labelled: bool = True) -> pd.DataFrame:
    """One SKAB CSV in file order: DatetimeIndex `datetime`, 8 channels (+ int `anomaly`, `changepoint`)."""
    columns = SKAB_CHANNELS + (["anomaly", "changepoint"] if labelled else [])
    with _reading(path, f"a SKAB CSV with columns datetime;{';'.join(columns)}"):
        frame = pd.read_csv(path, sep=";")
        if list(frame.columns) != ["datetime"] + columns:
            raise ValueError(f"columns are {list(frame.columns)}")
        frame.index = pd.DatetimeIndex(
            pd.to_datetime(frame.pop("datetime"), format="%Y-%m-%d %H:%M:%S"), name="datetime"
        )
        for col in columns[len(SKAB_CHANNELS) :]:
            if not frame[col].isin([0, 1]).all():
                raise ValueError(f"column {col!r} holds values other than 0/1")
            frame[col] = frame[col].astype(np.int64)
    return frame


TEP_VAR_NAMES = [f"XMEAS({i})" for i in range(1, 42)] + [f"XMV({i})" for i in range(1, 12)]


def read_tep_dat(paths: Mapping[str, str | Path]) -> dict[str, np.ndarray]:
    """The 44 Braatz files (keys `d00.dat` … `d21_te.dat`) assembled as in `tep_braatz.npz`.

    Training runs are d00 (500 normal rows; stored transposed, 52 × 500) then d01…d21 (480 rows, the
    fault active throughout); test runs d00_te…d21_te have 960 rows with the fault from row 160 on
    (Chiang, Russell & Braatz 2001).
    """

    def load(key: str, rows: int) -> np.ndarray:
        with _reading(paths[key], "a Braatz TEP .dat file"):
            x = np.loadtxt(paths[key], dtype=np.float64, ndmin=2)
            if key == "d00.dat" and x.shape == (52, rows):
                x = x.T
            if x.shape != (rows, 52):
                raise ValueError(f"shape {x.shape}, expected ({rows}, 52)")
        return x

    train = [load("d00.dat", 500)] + [load(f"d{r:02d}.dat", 480) for r in range(1, 22)]
    test = [load(f"d{r:02d}_te.dat", 960) for r in range(22)]
    test_run = np.repeat(np.arange(22, dtype=np.int8), 960)
    test_row = np.tile(np.arange(960, dtype=np.int16), 22)
    return {
        "train_X": np.concatenate(train),
        "train_run": np.concatenate([np.full(len(x), r, dtype=np.int8) for r, x in enumerate(train)]),
        "test_X": np.concatenate(test),
        "test_run": test_run,
        "test_row": test_row,
        "test_fault_active": ((test_run > 0) & (test_row >= 160)).astype(np.uint8),
        "var_names": np.array(TEP_VAR_NAMES),
    }
