import numpy as np
import pytest
import torch

from dcca_core.anomaly.scores import (
    cluster_anomaly_score,
    cluster_score,
    reconstruction_errors,
)
from dcca_core.metrics import roc_auc


def test_cluster_score_hand_worked_example():
    # centres point along +x and +y; their lengths must not matter
    centers = np.array([[2.0, 0.0], [0.0, 5.0]])
    codes = np.array(
        [
            [3.0, 4.0],  # unit (0.6, 0.8): cosines 0.6, 0.8 → 0.8
            [1.0, 0.0],  # on the x centre → 1
            [-1.0, -1.0],
        ]
    )  # cosines -1/√2 with both → -0.7071
    v = cluster_score(codes, centers)
    assert np.allclose(v, [0.8, 1.0, -1 / np.sqrt(2)])
    assert np.allclose(cluster_anomaly_score(codes, centers), -v)


def test_cluster_score_without_code_normalisation_is_a_projection():
    centers = np.array([[2.0, 0.0], [0.0, 5.0]])
    v = cluster_score(np.array([[3.0, 4.0]]), centers, normalize_codes=False)
    assert np.allclose(v, [4.0])  # max(3, 4): projections onto the unit centre directions


def test_cluster_score_rejects_bad_input():
    with pytest.raises(ValueError, match="dimension"):
        cluster_score(np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="zero vector"):
        cluster_score(np.ones((2, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="NaN"):
        cluster_score(np.array([[np.nan, 1.0]]), np.ones((1, 2)))


def test_auc_of_a_perfectly_separating_cluster_score_is_one():
    centers = np.array([[1.0, 0.0], [0.0, 1.0]])
    normal = np.array([[1.0, 0.05], [0.02, 1.0], [0.9, 0.1]])
    anomalous = np.array([[-1.0, -0.9], [-0.5, -1.0]])
    score = cluster_anomaly_score(np.vstack([normal, anomalous]), centers)
    assert roc_auc(np.array([0, 0, 0, 1, 1]), score) == pytest.approx(1.0)
    assert roc_auc(np.array([0, 0, 0, 1, 1]), -score) == pytest.approx(0.0)


class _Doubler(torch.nn.Module):
    def forward(self, x):
        return 2 * x, x


def test_reconstruction_errors_of_a_model_match_the_formula():
    x = np.random.default_rng(0).normal(size=(5, 3, 3)).astype(np.float32)
    expected = (x**2).reshape(5, -1).mean(axis=1)  # (2x - x)² = x²
    assert np.allclose(reconstruction_errors(_Doubler(), x, batch_size=2, device="cpu"), expected, atol=1e-6)


def test_reconstruction_errors_can_return_the_codes_of_the_same_pass():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    err, codes = reconstruction_errors(_Doubler(), x, batch_size=3, device="cpu", return_codes=True)
    assert np.allclose(err, (x**2).mean(axis=1)) and np.array_equal(codes, x)
