import numpy as np
import pytest
import torch
from torch import nn

from dcca_core.checkpoints import Checkpointer, config_hash
from dcca_core.training import encode, fit_autoencoder


class TinyAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Dropout(0.1), nn.Linear(4, 2))
        self.dec = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 6))

    def encode(self, x):
        return self.enc(x)

    def decode(self, z):
        return self.dec(z)

    def forward(self, x):
        z = self.encode(x)
        return self.decode(z), z


def _data() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32)


def _weights(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.state_dict().values()])


def test_config_hash_ignores_key_order():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_training_lowers_the_loss():
    torch.manual_seed(0)
    model = TinyAE()
    history = fit_autoencoder(model, _data(), epochs=15, batch_size=16, lr=1e-2, progress=False)
    assert len(history.epoch_loss) == 15
    assert history.epoch_loss[-1] < history.epoch_loss[0]
    assert encode(model, _data()).shape == (50, 2)


def test_interrupted_training_resumes_to_the_same_weights(tmp_path):
    config = {"model": "tiny", "epochs": 4}
    torch.manual_seed(1)
    reference = TinyAE()
    fit_autoencoder(reference, _data(), epochs=4, batch_size=16, progress=False)

    calls = {"n": 0}

    def flaky_loss(model, xb):
        calls["n"] += 1
        if calls["n"] == 9:  # during epoch 3 (4 batches per epoch)
            raise KeyboardInterrupt
        x_hat, _ = model(xb)
        loss = nn.functional.mse_loss(x_hat, xb)
        return loss, {}

    torch.manual_seed(1)
    interrupted = TinyAE()
    ckpt = Checkpointer("tiny", config, root=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        fit_autoencoder(
            interrupted, _data(), epochs=4, batch_size=16, checkpoint=ckpt, loss_fn=flaky_loss, progress=False
        )
    assert ckpt.load()["epoch"] == 2
    saved_seconds = ckpt.load()["history"].seconds
    assert saved_seconds > 0  # the time of the two finished epochs is kept with them

    torch.manual_seed(123)  # a fresh process would not share the first run's RNG state
    resumed = TinyAE()
    history = fit_autoencoder(resumed, _data(), epochs=4, batch_size=16, checkpoint=ckpt, progress=False)
    assert history.resumed_from_epoch == 2 and len(history.epoch_loss) == 4
    assert torch.equal(_weights(resumed), _weights(reference))

    assert history.seconds > saved_seconds  # resumed epochs add to the stored time

    again = TinyAE()  # finished: loading returns at once with the same weights and the stored time
    reused = fit_autoencoder(again, _data(), epochs=4, batch_size=16, checkpoint=ckpt, progress=False)
    assert torch.equal(_weights(again), _weights(reference))
    assert reused.resumed_from_epoch == 4 and reused.seconds == history.seconds


def test_bad_training_input_is_rejected():
    bad = _data()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_autoencoder(TinyAE(), bad, epochs=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match="n_samples"):
        fit_autoencoder(TinyAE(), np.zeros((0, 6), np.float32), epochs=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match="optimizer"):
        fit_autoencoder(TinyAE(), _data(), epochs=1, batch_size=8, optimizer="rmsprop", progress=False)


def _conv_data() -> np.ndarray:
    return np.random.default_rng(0).random((64, 28, 28), dtype=np.float32)


def _conv_model(seed: int = 0):
    from dcca_core.models.conv_autoencoders import ConvAutoencoder

    torch.manual_seed(seed)
    return ConvAutoencoder(filters=(4, 8, 8), embedding_dim=3, bottleneck_norm="l2")


def test_a_longer_run_extends_a_shorter_one_bit_for_bit_and_keeps_snapshots(tmp_path):
    from dcca_core.checkpoints import CheckpointError
    from dcca_core.training.loop import snapshot_checkpoint

    X = _conv_data()
    scratch = _conv_model()
    fit_autoencoder(scratch, X, epochs=4, batch_size=16, seed=3, progress=False)

    ckpt = Checkpointer("ext", {"model": "tiny-conv"}, root=tmp_path)  # the key has no epoch count
    short = _conv_model()
    fit_autoencoder(short, X, epochs=2, batch_size=16, seed=3, checkpoint=ckpt, progress=False, snapshot_epochs=[1, 2])
    after_two = _weights(short)
    extended = _conv_model()
    history = fit_autoencoder(
        extended, X, epochs=4, batch_size=16, seed=3, checkpoint=ckpt, progress=False, snapshot_epochs=[1, 2]
    )
    assert history.resumed_from_epoch == 2 and len(history.epoch_loss) == 4
    assert torch.equal(_weights(extended), _weights(scratch))  # extending == training 4 epochs from scratch

    back = _conv_model(seed=9)  # asked for fewer epochs than the checkpoint holds: the snapshot
    again = fit_autoencoder(back, X, epochs=2, batch_size=16, seed=3, checkpoint=ckpt, progress=False)
    assert torch.equal(_weights(back), after_two) and len(again.epoch_loss) == 2
    assert snapshot_checkpoint(ckpt, 2).path.exists() and not snapshot_checkpoint(ckpt, 3).path.exists()
    with pytest.raises(CheckpointError, match="no snapshot after epoch 3"):
        fit_autoencoder(_conv_model(), X, epochs=3, batch_size=16, seed=3, checkpoint=ckpt, progress=False)


def test_bf16_training_runs_and_stays_close_to_fp32():
    X = _conv_data()
    fp32, bf16, reordered = _conv_model(), _conv_model(), _conv_model()
    h32 = fit_autoencoder(fp32, X, epochs=3, batch_size=16, seed=1, progress=False)
    h16 = fit_autoencoder(
        bf16, X, epochs=3, batch_size=16, seed=1, progress=False, precision="bf16", channels_last=True
    )
    fit_autoencoder(reordered, X, epochs=3, batch_size=16, seed=2, progress=False)  # other batch order, fp32
    assert all(p.dtype == torch.float32 for p in bf16.parameters())  # weights and optimiser stay float32
    assert h16.epoch_loss[-1] < h16.epoch_loss[0]
    assert h16.epoch_loss == pytest.approx(h32.epoch_loss, rel=0.02)
    w32, w16 = _weights(fp32), _weights(bf16)
    assert not torch.equal(w32, w16)  # it really ran in lower precision ...
    rounding = (w32 - w16).abs().mean()
    assert rounding < 0.02 * w32.abs().mean()  # ... and moved the weights less than
    assert rounding < (w32 - _weights(reordered)).abs().mean()  # another batch order does
    with pytest.raises(ValueError, match="precision"):
        fit_autoencoder(_conv_model(), X, epochs=1, batch_size=16, precision="fp16", progress=False)
