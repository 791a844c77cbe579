import numpy as np
import pytest
import torch

from dcca_core.models.autoencoders import DEC_MNIST_DIMS, DenseAutoencoder


def test_dec_architecture_shapes_and_layers():
    model = DenseAutoencoder(DEC_MNIST_DIMS)
    x = torch.rand(3, 28, 28)
    x_hat, z = model(x)
    assert z.shape == (3, 10) and x_hat.shape == (3, 28, 28)
    assert model.decode(z).shape == (3, 784)
    pairs = model.layer_pairs()
    assert [(e.in_features, e.out_features) for e, _ in pairs] == [(784, 500), (500, 500), (500, 2000), (2000, 10)]
    assert [(d.in_features, d.out_features) for _, d in pairs] == [(500, 784), (500, 500), (2000, 500), (10, 2000)]
    # ReLU on hidden layers only: embedding and output are linear (can be negative)
    assert sum(isinstance(m, torch.nn.ReLU) for m in model.encoder) == 3
    assert isinstance(model.encoder[-1], torch.nn.Linear) and isinstance(model.decoder[-1], torch.nn.Linear)


def test_embedding_is_linear_and_can_be_negative():
    torch.manual_seed(0)
    z = DenseAutoencoder([6, 5, 3]).encode(torch.randn(50, 6))
    assert (z < 0).any() and (z > 0).any()


def test_l2_bottleneck_gives_unit_codes_and_decoder_sees_them():
    torch.manual_seed(0)
    model = DenseAutoencoder([8, 6, 4], bottleneck_norm="l2")
    x = torch.randn(5, 8)
    x_hat, z = model(x)
    assert torch.allclose(z.norm(dim=1), torch.ones(5), atol=1e-6)
    assert torch.allclose(x_hat, model.decode(z))


def test_dropout_is_active_in_train_mode_only():
    torch.manual_seed(0)
    model = DenseAutoencoder([8, 16, 4], dropout=0.5)
    x = torch.randn(4, 8)
    model.eval()
    assert torch.equal(model.encode(x), model.encode(x))
    model.train()
    assert not torch.equal(model.encode(x), model.encode(x))


def test_numpy_integer_dims_are_accepted():
    model = DenseAutoencoder(np.array([4, 3, 2]))
    assert model.dims == [4, 3, 2] and model.embedding_dim == 2 and model.input_dim == 4


@pytest.mark.parametrize("dims", [[784], [784, 0, 10], [784, 2.5, 10], "abc"])
def test_bad_dims_are_rejected(dims):
    with pytest.raises(ValueError, match="dims"):
        DenseAutoencoder(dims)


def test_bad_dropout_and_wrong_input_width_are_rejected():
    with pytest.raises(ValueError, match="dropout"):
        DenseAutoencoder([4, 2], dropout=1.0)
    with pytest.raises(ValueError, match="expects 4"):
        DenseAutoencoder([4, 2]).encode(torch.zeros(2, 5))
