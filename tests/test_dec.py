import numpy as np
import pytest
import torch

from dcca_core.models.autoencoders import DenseAutoencoder
from dcca_core.models.dec import DEC, ClusterAssignment, kl_divergence, soft_assignment, target_distribution


def test_target_distribution_hand_worked_example():
    # f = column sums = [0.5, 1.5]; row 1: [0.25/0.5, 0.25/1.5] = [1/2, 1/6] → [0.75, 0.25] (eq. 3)
    q = torch.tensor([[0.5, 0.5], [0.0, 1.0]], dtype=torch.float64)
    p = target_distribution(q)
    assert torch.allclose(p, torch.tensor([[0.75, 0.25], [0.0, 1.0]], dtype=torch.float64))


def test_soft_assignment_hand_worked_example():
    # α = 1: kernel 1/(1 + d²); z = 0, μ = (0, 1): kernels 1 and 1/2 → q = [2/3, 1/3] (eq. 1)
    z = torch.tensor([[0.0, 0.0]])
    centers = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    assert torch.allclose(soft_assignment(z, centers, alpha=1.0), torch.tensor([[2 / 3, 1 / 3]]))
    # α = 2: kernel (1 + d²/2)^(-3/2); d² = 2 → 2^(-3/2), normalised against 1
    z2 = torch.tensor([[1.0, 1.0]])
    k = 2.0**-1.5
    expected = torch.tensor([[k, 1.0]]) / (1 + k)
    assert torch.allclose(soft_assignment(z2, torch.tensor([[0.0, 0.0], [1.0, 1.0]]), alpha=2.0), expected)


def test_rows_of_q_and_p_sum_to_one_and_p_is_sharper():
    torch.manual_seed(0)
    q = soft_assignment(torch.randn(50, 3), torch.randn(4, 3))
    p = target_distribution(q)
    assert torch.allclose(q.sum(1), torch.ones(50), atol=1e-6)
    assert torch.allclose(p.sum(1), torch.ones(50), atol=1e-6)
    assert (p.max(1).values >= q.max(1).values - 1e-6).float().mean() > 0.9


def test_soft_assignment_is_stable_far_from_all_centres():
    q = soft_assignment(torch.tensor([[1e18, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
    assert torch.isfinite(q).all() and torch.allclose(q.sum(1), torch.ones(1))


def test_kl_divergence_zero_for_equal_and_matches_formula():
    p = torch.tensor([[0.75, 0.25], [0.0, 1.0]])
    q = torch.tensor([[0.5, 0.5], [0.2, 0.8]])
    assert float(kl_divergence(p, p)) == pytest.approx(0.0, abs=1e-7)
    expected = (0.75 * np.log(1.5) + 0.25 * np.log(0.5) + np.log(1 / 0.8)) / 2
    assert float(kl_divergence(p, q)) == pytest.approx(expected, rel=1e-6)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="alpha"):
        soft_assignment(torch.zeros(2, 2), torch.zeros(2, 2), alpha=0)
    with pytest.raises(ValueError, match="same d"):
        soft_assignment(torch.zeros(2, 3), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="non-negative"):
        target_distribution(torch.tensor([[-0.1, 1.1]]))
    with pytest.raises(ValueError, match="same shape"):
        kl_divergence(torch.ones(2, 2), torch.ones(2, 3))
    with pytest.raises(ValueError, match="shape"):
        ClusterAssignment(3, 2).set_centers(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="encode"):
        DEC(torch.nn.Linear(2, 2), 3)


def test_dec_module_forward_and_gradient_reaches_centres_and_encoder():
    torch.manual_seed(0)
    model = DEC(DenseAutoencoder([6, 5, 2]), n_clusters=3)
    model.assignment.set_centers(torch.randn(3, 2))
    q, z = model(torch.randn(8, 6))
    assert q.shape == (8, 3) and z.shape == (8, 2)
    kl_divergence(target_distribution(q.detach()), q).backward()
    assert model.assignment.centers.grad.abs().sum() > 0
    assert model.autoencoder.encoder[0].weight.grad.abs().sum() > 0
