import pytest
import torch

from dcca_core.models.conv_autoencoders import ConvAutoencoder
from dcca_core.training import fit_autoencoder


@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 1, 28, 28), (5, 784)])
def test_shapes_round_trip(shape):
    model = ConvAutoencoder()
    x = torch.rand(*shape)
    x_hat, z = model(x)
    assert x_hat.shape == x.shape and z.shape == (5, 10)
    assert model.decode(z).shape == (5, 1, 28, 28)


def test_l2_bottleneck_gives_unit_norm_codes_and_gradients_reach_the_encoder():
    torch.manual_seed(0)
    model = ConvAutoencoder(bottleneck_norm="l2")
    x = torch.rand(4, 28, 28)
    x_hat, z = model(x)
    assert torch.allclose(z.norm(dim=1), torch.ones(4), atol=1e-6)
    torch.nn.functional.mse_loss(x_hat, x).backward()
    first_conv = model.features[0].weight.grad
    assert first_conv is not None and torch.isfinite(first_conv).all() and first_conv.abs().sum() > 0


def test_plain_bottleneck_codes_are_not_normalised():
    torch.manual_seed(0)
    z = ConvAutoencoder(bottleneck_norm=None).encode(torch.rand(6, 28, 28))
    assert not torch.allclose(z.norm(dim=1), torch.ones(6), atol=1e-3)


@pytest.mark.parametrize("norm", [None, "l2", "batch", "layer"])
def test_ablation_variants_build_and_train_a_step(norm):
    torch.manual_seed(0)
    model = ConvAutoencoder(filters=(4, 8, 8), embedding_dim=3, bottleneck_norm=norm)
    before = [p.detach().clone() for p in model.parameters()]
    history = fit_autoencoder(model, torch.rand(16, 28, 28), epochs=1, batch_size=8, progress=False)
    assert len(history.epoch_loss) == 1 and history.epoch_loss[0] > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=False))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="bottleneck_norm"):
        ConvAutoencoder(bottleneck_norm="group")
    with pytest.raises(ValueError, match="filters"):
        ConvAutoencoder(filters=(32, 64))
    with pytest.raises(ValueError, match="28, 28"):
        ConvAutoencoder().encode(torch.rand(2, 32, 32))


def test_initialisation_is_keras_glorot_uniform_with_zero_biases():
    torch.manual_seed(0)
    model = ConvAutoencoder()
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear))]
    assert len(layers) == 8  # 3 convs, embedding, expansion, 3 transposed convs
    for layer in layers:
        w = layer.weight.detach()
        receptive = w[0, 0].numel()
        fan_in, fan_out = w.shape[1] * receptive, w.shape[0] * receptive
        bound = (6.0 / (fan_in + fan_out)) ** 0.5  # Glorot & Bengio 2010, Keras' glorot_uniform
        assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound
        assert w.std() == pytest.approx(bound / 3**0.5, rel=0.25)  # uniform(-b, b) has sd b/sqrt(3)
        assert torch.count_nonzero(layer.bias) == 0
    embed = model.embed.weight.detach()
    assert embed.abs().max() > 0.06  # ±0.072 for 1152 → 10, where PyTorch's default gives about ±0.029
