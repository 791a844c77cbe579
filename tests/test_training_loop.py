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
        fit_autoencoder(interrupted, _data(), epochs=4, batch_size=16, checkpoint=ckpt, loss_fn=flaky_loss,
                        progress=False)
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
