import pytest
import torch

from dcca_core.models.bottleneck import L2Normalize, make_bottleneck_norm


def test_l2_normalize_gives_unit_norms_and_passes_gradients():
    z = torch.tensor([[3.0, 4.0], [0.5, 0.0]], requires_grad=True)
    out = L2Normalize()(z)
    assert torch.allclose(out.norm(dim=1), torch.ones(2))
    assert torch.allclose(out[0], torch.tensor([0.6, 0.8]))
    out[:, 0].sum().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", [None, "l2", "batch", "layer"])
def test_make_bottleneck_norm_kinds(kind):
    module = make_bottleneck_norm(kind, 4)
    assert module(torch.randn(5, 4)).shape == (5, 4)


def test_unknown_norm_is_rejected():
    with pytest.raises(ValueError, match="bottleneck norm"):
        make_bottleneck_norm("group", 4)


def test_l2_normalize_stays_float32_under_bf16_autocast():
    from dcca_core.models.bottleneck import L2Normalize

    z = torch.randn(8, 10)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        lowered = torch.nn.Linear(10, 10)(z)  # bf16 under autocast
        out = L2Normalize()(lowered)
    assert lowered.dtype == torch.bfloat16 and out.dtype == torch.float32
    assert torch.allclose(out.norm(dim=1), torch.ones(8), atol=1e-6)
