import pytest
import torch

from dcca_core.models.conv_autoencoders import ConvAutoencoder, ConvAutoencoderConfig
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
    model = ConvAutoencoderConfig(filters=(4, 8, 8), embedding_dim=3, bottleneck_norm=norm).build()
    before = [p.detach().clone() for p in model.parameters()]
    history = fit_autoencoder(model, torch.rand(16, 28, 28), epochs=1, batch_size=8, progress=False)
    assert len(history.epoch_loss) == 1 and history.epoch_loss[0] > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="bottleneck_norm"):
        ConvAutoencoder(bottleneck_norm="group")
    with pytest.raises(ValueError, match="filters"):
        ConvAutoencoder(filters=(32, 64))
    with pytest.raises(ValueError, match="28, 28"):
        ConvAutoencoder().encode(torch.rand(2, 32, 32))
