import numpy as np
import pytest
import torch

from dcca_core.models.sparse_conv_ae import SparseConvAE, SparseConvAEConfig, sparse_ae_loss
from dcca_core.training import encode, fit_autoencoder


def _batch(n: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).uniform(size=(n, 1, 32, 32)).astype(np.float32))


def test_shapes_code_is_8x8x1_for_a_32x32_input():
    torch.manual_seed(0)
    model = SparseConvAE()
    x = _batch(4)
    x_hat, z = model(x)
    assert z.shape == (4, 1, 8, 8) and z[0].numel() == 64
    assert x_hat.shape == x.shape
    assert model.decode(model.encode(x)).shape == x.shape
    # (N, H, W) grey images are accepted too, and `encode` flattens the codes to 64 values
    assert encode(model, x[:, 0].numpy(), device="cpu").shape == (4, 64)


def test_the_study_network_has_the_stated_layers():
    model = SparseConvAE()
    convs = [model.enc1, model.enc2, model.dec1, model.dec2, model.out]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 3), (3, 1), (1, 1), (1, 3), (3, 1)]
    assert all(c.kernel_size == (5, 5) and c.padding == (2, 2) for c in convs)
    assert sum(p.numel() for p in model.parameters()) == 78 + 76 + 26 + 78 + 76
    # Keras initialisation: zero biases, Glorot-uniform weights within ±sqrt(6 / (fan_in + fan_out))
    assert all(float(c.bias.detach().abs().max()) == 0.0 for c in convs)
    limit = (6 / (1 * 25 + 3 * 25)) ** 0.5
    assert float(model.enc1.weight.abs().max()) <= limit


def test_sigmoid_output_is_in_unit_interval():
    out = SparseConvAE()(_batch(2) * 50)[0]
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_l1_penalty_is_added_to_the_loss_as_keras_does():
    x = _batch(6)
    torch.manual_seed(0)
    plain = SparseConvAE(l1_weight=0.0)
    torch.manual_seed(0)
    sparse = SparseConvAE(l1_weight=1e-3)
    loss0, logs0 = plain.loss(x)
    loss1, logs1 = sparse.loss(x)
    assert logs0["l1_penalty"] == 0.0 and logs0["mse"] == pytest.approx(logs1["mse"])
    # penalty = weight × Σ|activations of both encoder convs| / batch size
    a1 = torch.relu(sparse.enc1(x))
    a2 = torch.relu(sparse.enc2(sparse.pool(a1)))
    expected = 1e-3 * float(a1.abs().sum() + a2.abs().sum()) / 6
    assert expected > 0
    assert logs1["l1_penalty"] == pytest.approx(expected, rel=1e-5)
    assert float(loss1) == pytest.approx(float(loss0) + expected, rel=1e-5)
    # the penalty has a gradient on the encoder
    sparse.zero_grad()
    loss1.backward()
    assert float(sparse.enc1.weight.grad.abs().sum()) > 0


def test_one_training_step_lowers_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = SparseConvAE()
    x = _batch(16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    before, _ = model.loss(x)
    opt.zero_grad()
    before.backward()
    opt.step()
    with torch.no_grad():
        after, _ = model.loss(x)
    assert float(after) < float(before)


def test_fit_autoencoder_logs_mse_and_penalty():
    torch.manual_seed(0)
    model = SparseConvAE(l1_weight=1e-4)
    history = fit_autoencoder(
        model,
        _batch(32).numpy(),
        epochs=2,
        batch_size=16,
        lr=1e-2,
        loss_fn=sparse_ae_loss,
        device="cpu",
        progress=False,
    )
    last = history.logs[-1]
    assert set(last) == {"mse", "l1_penalty", "loss"}
    assert last["loss"] == pytest.approx(last["mse"] + last["l1_penalty"], rel=1e-5)
    assert history.epoch_loss[-1] == pytest.approx(last["loss"], rel=1e-5)


@pytest.mark.parametrize(
    "bad", [dict(l1_weight=-1.0), dict(kernel_size=4), dict(out_activation="tanh"), dict(hidden_filters=0)]
)
def test_bad_config_is_rejected(bad):
    with pytest.raises(ValueError):
        SparseConvAEConfig(**bad)


def test_bad_input_shape_is_rejected():
    model = SparseConvAE()
    with pytest.raises(ValueError, match="multiples of 4"):
        model(torch.zeros(1, 1, 30, 30))
    with pytest.raises(ValueError, match="x must be"):
        model(torch.zeros(1, 3, 32, 32))
