"""Checkpoints: keyed by config and code, verified on load, never deleted on an error."""

import errno
import logging
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch import nn

from dcca_core import checkpoints as ck
from dcca_core.checkpoints import (
    CheckpointCorruptError,
    Checkpointer,
    CheckpointError,
    array_fingerprint,
    code_fingerprint,
    config_hash,
)
from dcca_core.training import fit_autoencoder


def _state() -> dict:
    torch.manual_seed(0)
    return {"model": nn.Linear(8, 4).state_dict(), "epoch": 3}


def test_config_hash_ignores_key_order():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_array_fingerprint_tracks_content_shape_and_dtype():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = a.copy()
    b[0, 0] = 1.0
    assert array_fingerprint(a) == array_fingerprint(torch.from_numpy(a.copy()))
    assert array_fingerprint(a) != array_fingerprint(b)
    assert array_fingerprint(a) != array_fingerprint(a.reshape(4, 3))
    assert array_fingerprint(a) != array_fingerprint(a.astype(np.float64))
    assert array_fingerprint(a, None) != array_fingerprint(None, a) != array_fingerprint(a)


def test_round_trip_keeps_the_state(tmp_path):
    ckpt = Checkpointer("tiny", {"a": 1}, root=tmp_path)
    assert not ckpt.exists() and ckpt.load() is None
    state = _state()
    ckpt.save(state)
    back = ckpt.load()
    assert back["epoch"] == 3 and torch.equal(back["model"]["weight"], state["model"]["weight"])
    assert Checkpointer("tiny", {"a": 2}, root=tmp_path).load() is None  # another config, another file


@pytest.mark.parametrize("where", [0.01, 0.2, 0.5, 0.8, 0.999])
def test_a_flipped_byte_is_caught_and_the_file_moved_aside(tmp_path, where):
    ckpt = Checkpointer("tiny", {"a": 1}, root=tmp_path)
    ckpt.save(_state())
    raw = bytearray(ckpt.path.read_bytes())
    pos = int(where * (len(raw) - 1))
    raw[pos] ^= 0x10
    ckpt.path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointCorruptError, match="corrupt") as err:
        ckpt.load()
    assert str(ckpt.path) in str(err.value)
    assert not ckpt.path.exists()  # moved out of the way, so the next run trains again ...
    aside = list(tmp_path.glob("tiny-*.pt.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == bytes(raw)  # ... and kept byte for byte
    assert ckpt.load() is None


def test_a_truncated_file_is_corrupt_not_deleted(tmp_path):
    ckpt = Checkpointer("tiny", {"a": 1}, root=tmp_path)
    ckpt.save(_state())
    ckpt.path.write_bytes(ckpt.path.read_bytes()[:-7])
    with pytest.raises(CheckpointCorruptError, match="bytes of weights"):
        ckpt.load()
    assert len(list(tmp_path.glob("*.corrupt-*"))) == 1


def test_a_file_torch_cannot_read_is_left_in_place_without_advice_to_delete(tmp_path, monkeypatch):
    ckpt = Checkpointer("tiny", {"a": 1}, root=tmp_path)
    ckpt.save(_state())

    def refuse(*args, **kwargs):
        raise RuntimeError("PytorchStreamReader failed reading zip archive")

    monkeypatch.setattr(ck.torch, "load", refuse)
    with pytest.raises(CheckpointError, match="left in place") as err:
        ckpt.load()
    assert "delete" not in str(err.value).lower()
    assert ckpt.path.exists()


def test_a_full_disk_is_named_and_the_previous_checkpoint_survives(tmp_path, monkeypatch):
    ckpt = Checkpointer("tiny", {"a": 1}, root=tmp_path)
    ckpt.save(_state())
    before = ckpt.path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ck.os, "fsync", full)
    with pytest.raises(OSError, match="no space left while saving .*tiny-") as err:
        ckpt.save({"epoch": 4})
    assert err.value.errno == errno.ENOSPC
    assert ckpt.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [ckpt.path.name]  # no temp file left behind


@pytest.fixture
def training_module(tmp_path, monkeypatch):
    """An importable module holding a loss function, standing in for the code that trains a model."""
    folder = tmp_path / "code"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    path = folder / "tiny_training_code.py"

    def write(loss_line: str, comment: str = "") -> None:
        path.write_text(
            textwrap.dedent(f"""
            import torch
            {comment}
            def loss(model, xb):
                x_hat = model(xb)
                value = {loss_line}
                return value, {{}}
            """)
        )

    write("torch.nn.functional.mse_loss(x_hat, xb)")
    yield write
    sys.modules.pop("tiny_training_code", None)


def test_changing_the_training_code_changes_the_key(training_module, tmp_path):
    before = Checkpointer("tiny", {"a": 1}, root=tmp_path, code=["tiny_training_code"])
    training_module("torch.nn.functional.mse_loss(x_hat, xb)", comment="# a comment only")
    cosmetic = Checkpointer("tiny", {"a": 1}, root=tmp_path, code=["tiny_training_code"])
    training_module("torch.nn.functional.l1_loss(x_hat, xb)")
    changed = Checkpointer("tiny", {"a": 1}, root=tmp_path, code=["tiny_training_code"])
    assert cosmetic.path == before.path  # comments and blank lines do not count
    assert changed.path != before.path
    assert code_fingerprint(["tiny_training_code"]) == changed.code


def _fit(ckpt, loss):
    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    model.encode = model.forward
    X = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    history = fit_autoencoder(model, X, epochs=2, batch_size=8, loss_fn=loss, checkpoint=ckpt, progress=False)
    return history


def test_a_model_from_older_training_code_is_not_reused(training_module, tmp_path, monkeypatch, caplog):
    import importlib

    mod = importlib.import_module("tiny_training_code")
    first = _fit(Checkpointer("tiny", {"a": 1}, root=tmp_path, code=[mod]), mod.loss)
    assert first.resumed_from_epoch == 0
    training_module("torch.nn.functional.l1_loss(x_hat, xb)")  # the loss changes ...
    mod = importlib.reload(mod)
    second = _fit(Checkpointer("tiny", {"a": 1}, root=tmp_path, code=[mod]), mod.loss)
    assert second.resumed_from_epoch == 0  # ... so the model is trained again, not returned from disk
    assert second.epoch_loss != first.epoch_loss

    training_module("torch.nn.functional.l1_loss(x_hat, xb) * 1.0")  # the explicit, logged opt-out
    mod = importlib.reload(mod)
    monkeypatch.setenv(ck.REUSE_ACROSS_CODE_ENV, "1")
    ckpt = Checkpointer("tiny", {"a": 1}, root=tmp_path, code=[mod])
    assert not ckpt.path.exists() and ckpt.exists()
    with caplog.at_level(logging.WARNING, logger="dcca_core.checkpoints"):
        third = _fit(ckpt, mod.loss)
    assert third.resumed_from_epoch == 2 and third.epoch_loss == second.epoch_loss
    assert "written by other code" in caplog.text and "tiny_training_code" in caplog.text
    assert ckpt.loaded_from != ckpt.path and ckpt.loaded_from.exists()
    monkeypatch.delenv(ck.REUSE_ACROSS_CODE_ENV)  # adopted: found under the new key without the opt-out
    assert Checkpointer("tiny", {"a": 1}, root=tmp_path, code=[mod]).load()["epoch"] == 2
