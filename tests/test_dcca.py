"""DCCA: shapes, the joint loss, gradient masking, kernel ranks, and regression tests for the three
defects of the original code (argsort-as-ranks, stale-graph backward, test split embedded with the
training embeddings)."""

import copy

import numpy as np
import pytest
import torch

from dcca_core.models.dcca import (
    Conv1dAutoencoder,
    clustering_loss,
    joint_loss,
    kernel_gradient_mask,
    rank_kernels,
    ranks_from_scores,
)
from dcca_core.training import encode
from dcca_core.training.dcca import DCCA, DCCAConfig, masked_joint_step


def _close(actual, expected):
    """Tensor equality to float32 precision (numpy's, which imports in no time, unlike torch.testing)."""
    expected = expected if isinstance(expected, torch.Tensor) else torch.as_tensor(expected)
    np.testing.assert_allclose(actual.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-7)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("channels,window", [(1, 4), (8, 16), (8, 31), (8, 32), (52, 60), (3, 100)])
def test_shapes_for_several_window_lengths(channels, window):
    torch.manual_seed(0)
    model = Conv1dAutoencoder(channels, window, n_filters=4, kernel_size=5, latent_dim=6)
    x = torch.randn(3, channels, window)
    x_hat, z = model(x)
    assert x_hat.shape == x.shape and z.shape == (3, 6)
    maps = model.features(x)
    assert maps.shape == (3, 16, model.lengths[3])  # 4F kernels in the last layer
    assert model.lengths[1] == (window - 1) // 2 + 1  # stride 2
    assert model.lengths[3] == model.lengths[2]  # stride 1
    assert model.decode(z).shape == x.shape


def test_model_rejects_bad_shapes():
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        Conv1dAutoencoder(2, 16, kernel_size=4)
    with pytest.raises(ValueError, match="window"):
        Conv1dAutoencoder(2, 3)
    with pytest.raises(ValueError, match=r"expected windows of shape \(N, 2, 16\)"):
        Conv1dAutoencoder(2, 16)(torch.zeros(2, 3, 16))


def test_joint_loss_equals_the_hand_computed_mix():
    x = torch.tensor([[[1.0, 2.0]]])  # (1, 1, 2)
    x_hat = torch.tensor([[[0.0, 4.0]]])  # squared errors 1, 4 → L_rec = 2.5
    z = torch.tensor([[1.0, 1.0], [4.0, 0.0]])  # nearest centres: (0, 0) and (5, 0)
    centers = torch.tensor([[0.0, 0.0], [5.0, 0.0]])
    # L_clu = mean over elements of (z - c)²: (1 + 1 + 1 + 0) / 4 = 0.75
    assert float(clustering_loss(z, centers)) == pytest.approx(0.75)
    total, rec, clu = joint_loss(x, x_hat, z, centers, alpha=0.2)
    assert float(rec) == pytest.approx(2.5) and float(clu) == pytest.approx(0.75)
    assert float(total) == pytest.approx(0.8 * 2.5 + 0.2 * 0.75)
    # α = 0 is plain reconstruction, α = 1 plain clustering
    assert float(joint_loss(x, x_hat, z, centers, 0.0)[0]) == pytest.approx(2.5)
    assert float(joint_loss(x, x_hat, z, centers, 1.0)[0]) == pytest.approx(0.75)


def _model_and_batch(seed=0):
    torch.manual_seed(seed)
    model = Conv1dAutoencoder(3, 16, n_filters=2, kernel_size=3, latent_dim=4)  # 8 kernels in the last layer
    x = torch.randn(10, 3, 16)
    centers = torch.randn(2, 4)
    return model, x, centers


def _grads(model, loss):
    return {
        n: g
        for (n, _), g in zip(
            model.named_parameters(),
            torch.autograd.grad(loss, list(model.parameters()), allow_unused=True),
            strict=False,
        )
    }


def test_gradient_masking_keeps_the_clustering_loss_off_reconstruction_kernels():
    model, x, centers = _model_and_batch()
    clustering = [1, 4, 6]
    reconstruction = [0, 2, 3, 5, 7]
    masks = kernel_gradient_mask(model, clustering)
    alpha = 0.3
    ref = copy.deepcopy(model)
    x_hat, z = ref(x)
    _, rec, clu = joint_loss(x, x_hat, z, centers, alpha)
    g_rec = _grads(ref, rec)
    x_hat, z = copy.deepcopy(model)(x)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the step leaves .grad for inspection
    masked_joint_step(model, x, centers, alpha, opt, masks)
    w = model.last_conv.weight.grad
    w_rec = g_rec["encoder_blocks.2.0.weight"]
    # reconstruction kernels: exactly the reconstruction gradient, nothing of the clustering loss
    _close(w[reconstruction], (1 - alpha) * w_rec[reconstruction])
    _close(model.last_conv.bias.grad[reconstruction], (1 - alpha) * g_rec["encoder_blocks.2.0.bias"][reconstruction])
    _close(
        model.last_norm.weight.grad[reconstruction], (1 - alpha) * g_rec["encoder_blocks.2.1.weight"][reconstruction]
    )
    # clustering kernels do get the clustering loss on top
    assert not torch.allclose(w[clustering], (1 - alpha) * w_rec[clustering])
    # every other parameter gets the reconstruction gradient only
    for name, p in model.named_parameters():
        if not name.startswith("encoder_blocks.2."):
            _close(p.grad, (1 - alpha) * g_rec[name])
    # with α = 1 only the clustering kernels have a non-zero gradient at all
    opt.zero_grad()
    masked_joint_step(model, x, centers, 1.0, opt, masks)
    for name, p in model.named_parameters():
        if name.startswith("encoder_blocks.2."):
            assert p.grad[reconstruction].abs().max() == 0 and p.grad[clustering].abs().max() > 0
        else:
            assert p.grad.abs().max() == 0, name


def test_unmasked_step_is_plain_backprop_of_the_joint_loss():
    model, x, centers = _model_and_batch(1)
    ref = copy.deepcopy(model)
    x_hat, z = ref(x)
    expected = _grads(ref, joint_loss(x, x_hat, z, centers, 0.4)[0])
    masked_joint_step(model, x, centers, 0.4, torch.optim.SGD(model.parameters(), lr=0.0))
    for name, p in model.named_parameters():
        _close(p.grad, expected[name])


def test_regression_no_backward_through_a_stale_graph():
    """The original stepped on the joint loss, then back-propagated the reconstruction loss through the
    graph of the old weights. PyTorch refuses that; our step takes both gradients from one forward pass
    at the current weights, so the second of two steps uses exactly the post-first-step weights."""
    model, x, centers = _model_and_batch(2)
    masks = kernel_gradient_mask(model, [0, 1, 2, 3])
    # the original pattern fails on a modern PyTorch
    stale = copy.deepcopy(model)
    opt = torch.optim.SGD(stale.parameters(), lr=0.1)
    x_hat, z = stale(x)
    total, rec, _ = joint_loss(x, x_hat, z, centers, 0.5)
    total.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        rec.backward()
    # ours: two consecutive steps; the second step's gradient is computed at the updated weights
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    masked_joint_step(model, x, centers, 0.5, opt, masks)
    after_first = copy.deepcopy(model)
    x_hat, z = after_first(x)
    _, rec, clu = joint_loss(x, x_hat, z, centers, 0.5)
    g_rec = torch.autograd.grad(rec, list(after_first.parameters()), retain_graph=True)
    g_clu = torch.autograd.grad(clu, list(after_first.parameters()), allow_unused=True)
    masked_joint_step(model, x, centers, 0.5, opt, masks)
    for (name, p), gr, gc in zip(model.named_parameters(), g_rec, g_clu, strict=False):
        expected = 0.5 * gr + (0.5 * masks[name] * gc if gc is not None else 0.0)
        _close(p.grad, expected)


def test_regression_rank_kernels_returns_ranks_not_argsort():
    rng = np.random.default_rng(0)
    n, length = 60, 5
    groups = np.repeat([0, 1], n // 2)
    separations = [1.0, 8.0, 2.0, 4.0]  # kernel 1 separates best, then 3, 2, 0
    acts = np.stack([rng.normal(0, 0.05, (n, length)) + sep * groups[:, None] for sep in separations], axis=1)
    distances, ranks = rank_kernels(acts, random_state=0, device="cpu")
    np.testing.assert_allclose(distances, np.array(separations) * np.sqrt(length), rtol=0.05)
    np.testing.assert_array_equal(ranks, [3, 0, 2, 1])
    # the original's np.argsort(distances) is a different thing: kernel indices in increasing order
    assert np.argsort(distances).tolist() == [0, 2, 3, 1] != ranks.tolist()
    # ranks are a permutation whose inverse is the descending order
    np.testing.assert_array_equal(np.argsort(ranks), np.argsort(-distances))


def test_ranks_from_scores_hand_example():
    np.testing.assert_array_equal(ranks_from_scores([0.3, 0.9, 0.1, 0.5]), [2, 0, 3, 1])
    np.testing.assert_array_equal(ranks_from_scores([1.0, 1.0, 2.0]), [1, 2, 0])  # ties keep index order


def _two_regimes(rng, n_normal=120, n_anomalous=40, window=16):
    t = np.arange(window)
    normal = np.sin(t / 2.0)[None, None, :] + 0.1 * rng.normal(size=(n_normal, 2, window))
    anomalous = 2.0 + np.sin(t / 2.0)[None, None, :] + 0.1 * rng.normal(size=(n_anomalous, 2, window))
    return np.concatenate([normal, anomalous]).astype(np.float32), np.repeat([0, 1], [n_normal, n_anomalous])


SMALL = DCCAConfig(
    n_filters=2,
    latent_dim=4,
    kernel_size=3,
    pretrain_epochs=4,
    joint_epochs=2,
    masked_epochs=2,
    batch_size=32,
    lr=3e-3,
    n_clustering_kernels=3,
    kmeans_n_init=3,
)


def test_fit_separates_two_regimes_and_names_the_clusters_from_the_reference():
    rng = np.random.default_rng(0)
    X, y = _two_regimes(rng)
    model = DCCA(SMALL, seed=0, device="cpu").fit(X, X_reference=X[:100])
    assert model.centers_.shape == (2, 4)
    assert sorted(model.clustering_kernels_.tolist() + model.reconstruction_kernels_.tolist()) == list(range(8))
    assert len(model.clustering_kernels_) == 3
    assert (model.predict(X) == y).mean() > 0.95
    score = model.score_samples(X)
    assert score[y == 1].mean() > score[y == 0].mean()
    assert len(model.history_.stage1) == 2 and len(model.history_.stage2) == 2
    # "larger" names the bigger cluster normal: same answer here
    other = DCCA(SMALL, seed=0, device="cpu", anomaly_rule="larger").fit(X)
    assert other.normal_cluster_ == model.normal_cluster_


def test_regression_test_split_codes_come_from_the_test_windows():
    rng = np.random.default_rng(1)
    X_train, _ = _two_regimes(rng)
    X_test, y_test = _two_regimes(rng, n_normal=30, n_anomalous=25)
    model = DCCA(SMALL, seed=0, device="cpu").fit(X_train, X_reference=X_train[:100])
    codes = model.transform(X_test)
    assert codes.shape == (55, 4)
    np.testing.assert_allclose(codes, encode(model.model_, X_test, device="cpu"), rtol=1e-6)
    assert model.predict(X_test).shape == (55,)
    assert (model.predict(X_test) == y_test).mean() > 0.9
    # the original defect: labelling the test split with the training embeddings' clustering
    assert len(model.labels_) == len(X_train) != len(X_test)


def test_same_seed_same_numbers_and_checkpoint_reuse(tmp_path, monkeypatch):
    monkeypatch.setenv("DCCA_CHECKPOINT_DIR", str(tmp_path))
    X, _ = _two_regimes(np.random.default_rng(2), 60, 20)
    a = DCCA(SMALL, seed=3, device="cpu", checkpoint_name="t").fit(X, X_reference=X[:50])
    assert len(list(tmp_path.glob("t-dcca-*.pt"))) == 1 and len(list(tmp_path.glob("t-pretrain-*.pt"))) == 1
    b = DCCA(SMALL, seed=3, device="cpu").fit(X, X_reference=X[:50])
    np.testing.assert_array_equal(a.centers_, b.centers_)
    np.testing.assert_array_equal(a.kernel_ranks_, b.kernel_ranks_)
    c = DCCA(SMALL, seed=3, device="cpu", checkpoint_name="t").fit(X, X_reference=X[:50])  # loaded, not trained
    np.testing.assert_array_equal(a.centers_, c.centers_)
    np.testing.assert_array_equal(a.predict(X), c.predict(X))
    np.testing.assert_allclose(a.reconstruction_error(X, pretrained=True), c.reconstruction_error(X, pretrained=True))


def test_bad_input_is_named():
    X, _ = _two_regimes(np.random.default_rng(3), 20, 10)
    with pytest.raises(ValueError, match="X_reference"):
        DCCA(SMALL).fit(X)
    with pytest.raises(ValueError, match="alpha"):
        DCCAConfig(alpha=1.5)
    with pytest.raises(ValueError, match="anomaly_rule"):
        DCCAConfig(anomaly_rule="smaller")
    with pytest.raises(ValueError, match="n_clustering_kernels"):
        DCCA(SMALL, n_clustering_kernels=9, device="cpu").fit(X, X_reference=X)
    with pytest.raises(ValueError, match="windows"):
        DCCA(SMALL).fit(X[:, 0])
    with pytest.raises(ValueError, match="not fitted"):
        DCCA(SMALL).predict(X)
    with pytest.raises(ValueError, match="clustering kernels must lie"):
        kernel_gradient_mask(Conv1dAutoencoder(2, 16, n_filters=2), [8])
