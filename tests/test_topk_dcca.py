"""Top-K DCCA as the reference builds it: the maps latent, per-kernel k-means and loss, Top-K and the
reference's masks, the schedule of Algorithm 1 and resuming (the reference's evaluation: test_dcca_reference)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dcca_core.models.topk_dcca import (
    MapsConvAutoencoder,
    center_distances,
    per_kernel_clustering_loss,
    per_kernel_kmeans,
    reference_kernel_rows,
    topk_kernels,
)
from dcca_core.training.topk_dcca import TopKDCCA, TopKDCCAConfig

# -- the network ---------------------------------------------------------------------------------


@pytest.mark.parametrize("window", [30, 31, 20, 60])
def test_the_maps_autoencoder_reconstructs_the_input_length_without_padding(window):
    model = MapsConvAutoencoder(n_channels=5, window=window, n_filters=4, kernel_size=3)
    x = torch.randn(3, 5, window)
    x_hat, maps = model(x)
    assert x_hat.shape == x.shape
    # unpadded: L1 = (L0 - 3)//2 + 1, L2 = (L1 - 3)//2 + 1, L3 = L2 - 2; 4F maps, no linear layer
    l1 = (window - 3) // 2 + 1
    l2 = (l1 - 3) // 2 + 1
    assert maps.shape == (3, 16, l2 - 2) and model.n_kernels == 16
    assert not any(isinstance(m, torch.nn.Linear) for m in model.modules())
    kinds = [type(m).__name__ for m in model.encoder]
    assert kinds == ["Conv1d", "LeakyReLU", "BatchNorm1d"] * 3  # CAE_3_bn's order: conv, activation, norm
    assert model.last_conv is model.encoder[6]


def test_a_window_too_short_for_three_convolutions_is_refused():
    with pytest.raises(ValueError, match="too short"):
        MapsConvAutoencoder(n_channels=2, window=8, kernel_size=3)


# -- per-kernel k-means, distances, Top-K ---------------------------------------------------------


def test_per_kernel_kmeans_clusters_each_kernel_on_its_own():
    rng = np.random.default_rng(0)
    n = 40
    split = np.repeat([0, 1], n // 2)
    maps = np.zeros((n, 3, 4))
    maps[:, 0, :] = split[:, None] * 10.0 + rng.normal(0, 0.1, (n, 4))  # kernel 0 splits the halves
    maps[:, 1, :] = (np.arange(n) % 2)[:, None] * 2.0 + rng.normal(0, 0.1, (n, 4))  # kernel 1 splits odd/even
    maps[:, 2, :] = 7.0  # a dead kernel
    centers, labels = per_kernel_kmeans(maps, random_state=0, device="cpu")
    assert centers.shape == (3, 2, 4) and labels.shape == (n, 3)
    assert len(set(zip(labels[:, 0], split, strict=True))) == 2  # kernel 0's labels are the halves
    assert len(set(zip(labels[:, 1], np.arange(n) % 2, strict=True))) == 2
    d = center_distances(centers)
    assert d[0] == pytest.approx(20.0, rel=0.01) and d[1] == pytest.approx(4.0, rel=0.05) and d[2] == 0.0
    assert (labels[:, 2] == 0).all()


def test_topk_is_the_k_kernels_farthest_apart():
    d = [5, 1, 7, 3, 0, 9, 2, 4]
    assert topk_kernels(d, 2).tolist() == [2, 5]
    assert topk_kernels(d, 3).tolist() == [0, 2, 5]
    with pytest.raises(ValueError, match="1..8"):
        topk_kernels(d, 9)


def test_the_reference_rows_are_inverted_off_by_one_and_scrambled_by_argsort():
    # the audit's example: distances [5,1,7,3,0,9,2,4], K = 2
    d = [5, 1, 7, 3, 0, 9, 2, 4]
    clu, rec = reference_kernel_rows(d, 2, rank_bug=True)
    assert rec.tolist() == [1, 5, 6]  # kernel 5 has the largest distance, yet gets no clustering update
    assert clu.tolist() == [0, 2, 3, 4, 7]
    clu, rec = reference_kernel_rows(d, 2, rank_bug=False)
    assert rec.tolist() == [1, 4, 6]  # the three smallest distances
    assert len(clu) == 8 - 2 - 1  # C − K − 1 rows get the clustering gradient, not K
    assert set(clu) == set(np.argsort(d)[3:])  # ... the largest ones


# -- the loss --------------------------------------------------------------------------------------


def test_the_per_kernel_loss_by_hand():
    centers = torch.tensor([[[0.0, 0.0], [4.0, 4.0]], [[1.0, 1.0], [-1.0, -1.0]]])  # (K=2, 2, L=2)
    maps = torch.tensor([[[1.0, 0.0], [1.0, 3.0]], [[3.0, 4.0], [-2.0, -1.0]]])  # (B=2, K=2, L=2)
    # nearest: window 0 → kernel 0 centre 0 (sq 1), kernel 1 centre 0 (sq 0 + 4 = 4)
    #          window 1 → kernel 0 centre 1 (sq 1 + 0), kernel 1 centre 1 (sq 1 + 0)
    loss = per_kernel_clustering_loss(maps, centers)
    assert float(loss) == pytest.approx((1 + 4 + 1 + 1) / 8)
    only_kernel_1 = per_kernel_clustering_loss(maps, centers, kernels=torch.tensor([1]))
    assert float(only_kernel_1) == pytest.approx((4 + 1) / 4)
    # given assignments (the last update's), not the nearest: window 0 kernel 0 to centre 1
    assign = torch.tensor([[1, 0], [1, 1]])
    assert float(per_kernel_clustering_loss(maps, centers, assign)) == pytest.approx((9 + 16 + 4 + 1 + 1) / 8)


def test_the_paper_loss_sends_no_gradient_to_the_maps_of_other_kernels():
    maps = torch.randn(4, 3, 5, requires_grad=True)
    centers = torch.randn(3, 2, 5)
    per_kernel_clustering_loss(maps, centers, kernels=torch.tensor([0, 2])).backward()
    assert maps.grad is not None
    assert maps.grad[:, 1].abs().sum() == 0 and maps.grad[:, 0].abs().sum() > 0 and maps.grad[:, 2].abs().sum() > 0


# -- the schedule and the estimator ---------------------------------------------------------------


def _windows(n=48, channels=3, window=24, seed=0):
    """Two kinds of windows: a sine in channel 0, or a step in channel 1, with noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, window)
    X = rng.normal(0, 0.1, (n, channels, window)).astype(np.float32)
    y = np.arange(n) % 2
    X[y == 0, 0] += np.sin(t)
    X[y == 1, 1] += (t > np.pi).astype(np.float32)
    return X, y


def test_ranking_follows_the_p_plus_1_pretraining_epochs_and_every_update_interval():
    cfg = TopKDCCAConfig(pretrain_epochs=3, joint_epochs=7, update_interval=3)
    updates = [e for e in range(cfg.epochs) if cfg.is_update_epoch(e)]
    assert updates == [2, 5, 8]  # after epoch P+1 = 3, then after joint epochs 3 and 6
    tiny = TopKDCCAConfig(n_filters=2, pretrain_epochs=2, joint_epochs=3, update_interval=2, batch_size=16)
    model = TopKDCCA(tiny, seed=0, device="cpu").fit(_windows()[0])
    phases = [e["phase"] for e in model.history_.epochs]
    assert phases == ["pretrain"] * 2 + ["joint"] * 3  # no unmasked joint stage between them
    # ranked after pretraining, after joint epoch 2, and once more after the last epoch
    assert [u["epoch"] for u in model.history_.updates] == [2, 4, 5]
    assert len(model.clustering_kernels_) == 4 and model.centers_.shape[:2] == (8, 2)


@pytest.mark.parametrize("masking", ["paper", "reference", "none"])
def test_each_masking_trains_and_only_the_reference_leaves_rows_of_conv3_to_one_loss(masking):
    X, _ = _windows()
    cfg = TopKDCCAConfig(n_filters=2, pretrain_epochs=1, joint_epochs=1, batch_size=48, lr=0.05, masking=masking)
    model = TopKDCCA(cfg, seed=0, device="cpu").fit(X)
    assert np.isfinite([e["loss"] for e in model.history_.epochs]).all()
    assert model.history_.epochs[-1]["clu"] > 0


def test_the_reference_masks_zero_the_rows_they_name():
    """With α = 1 the reference's first step is the clustering loss alone and its mask leaves the
    "reconstruction" rows of conv3.weight untouched; a learning rate of 0 in the second step isolates it."""
    X, _ = _windows()
    cfg = TopKDCCAConfig(n_filters=2, pretrain_epochs=1, joint_epochs=0, batch_size=48, masking="reference", alpha=1.0)
    est = TopKDCCA(cfg, seed=0, device="cpu").fit(X)
    est.model_.train()
    before = est.model_.last_conv.weight.detach().clone()
    opt = torch.optim.SGD(est.model_.parameters(), lr=0.1)
    calls = {"n": 0}
    original = opt.step

    def step_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            for g in opt.param_groups:
                g["lr"] = 0.0
        return original(*args, **kwargs)

    opt.step = step_once  # type: ignore[method-assign]
    idx = torch.arange(len(X))
    est._step(torch.from_numpy(X), idx, True, opt, torch.device("cpu"))
    changed = (est.model_.last_conv.weight.detach() != before).flatten(1).any(dim=1).numpy()
    clustering_rows, reconstruction_rows = est.reference_rows_
    assert changed[clustering_rows].all() and not changed[reconstruction_rows].any()
    assert calls["n"] == 2  # two optimiser steps per batch, as the reference


def test_targets_follow_each_window_not_its_batch_position():
    """With targets='update' a window is pulled towards *its own* assignment from the last update,
    whatever batch it lands in; the reference used the batch at the same position last epoch."""
    X, _ = _windows()
    cfg = TopKDCCAConfig(n_filters=2, pretrain_epochs=1, joint_epochs=0, batch_size=16)
    est = TopKDCCA(cfg, seed=0, device="cpu").fit(X)
    maps = torch.from_numpy(est.transform(X))
    centers = torch.as_tensor(est.centers_)
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(1))
    own = per_kernel_clustering_loss(maps[perm], centers, torch.as_tensor(est.labels_[perm.numpy()]))
    assert float(own) == pytest.approx(float(per_kernel_clustering_loss(maps, centers, torch.as_tensor(est.labels_))))
    by_position = per_kernel_clustering_loss(maps[perm], centers, torch.as_tensor(est.labels_))
    assert float(by_position) > float(own)


def test_same_seed_same_model_and_a_resumed_run_equals_one_that_never_stopped(tmp_path, monkeypatch):
    monkeypatch.setenv("DCCA_CHECKPOINT_DIR", str(tmp_path))
    X, _ = _windows()
    cfg = TopKDCCAConfig(n_filters=2, pretrain_epochs=2, joint_epochs=2, update_interval=1, batch_size=16)
    straight = TopKDCCA(cfg, seed=3, device="cpu").fit(X)
    again = TopKDCCA(cfg, seed=3, device="cpu").fit(X)
    np.testing.assert_array_equal(straight.transform(X), again.transform(X))
    # interrupt after 3 epochs: a shorter run writes its checkpoint under the full run's key only if
    # the config matches, so simulate the interruption by raising inside the fourth epoch
    est = TopKDCCA(cfg, seed=3, device="cpu", checkpoint_name="t")
    calls = {"n": 0}
    original = est._cluster_update

    def stop_on_fourth_update(X_, epoch, history):
        calls["n"] += 1
        if epoch == 3:
            raise KeyboardInterrupt
        return original(X_, epoch, history)

    est._cluster_update = stop_on_fourth_update  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        est.fit(X)
    resumed = TopKDCCA(cfg, seed=3, device="cpu", checkpoint_name="t").fit(X)
    np.testing.assert_array_equal(resumed.transform(X), straight.transform(X))
    np.testing.assert_array_equal(resumed.centers_, straight.centers_)
    assert [u["epoch"] for u in resumed.history_.updates] == [u["epoch"] for u in straight.history_.updates]


def test_bad_configs_and_inputs_are_refused_clearly():
    with pytest.raises(ValueError, match="masking"):
        TopKDCCAConfig(masking="half")
    with pytest.raises(ValueError, match="pretrain_epochs"):
        TopKDCCAConfig(pretrain_epochs=0)
    with pytest.raises(ValueError, match="not fitted"):
        TopKDCCA().transform(np.zeros((2, 3, 24)))
    with pytest.raises(ValueError, match="n_clustering_kernels"):
        TopKDCCA(n_filters=2, n_clustering_kernels=9, device="cpu").fit(_windows()[0])


def test_the_centres_come_from_eval_mode_maps_of_all_windows_after_the_epoch():
    """The reference clustered the maps collected in train mode while the weights moved; ours are
    the eval-mode maps of every window after the epoch, so refitting on them gives the same centres."""
    X, _ = _windows()
    cfg = TopKDCCAConfig(n_filters=2, pretrain_epochs=2, joint_epochs=1, batch_size=16)
    est = TopKDCCA(cfg, seed=4, device="cpu").fit(X)
    centers, labels = per_kernel_kmeans(est.transform(X), n_init=cfg.kmeans_n_init, random_state=4, device="cpu")
    np.testing.assert_array_equal(centers, est.centers_)
    np.testing.assert_array_equal(labels, est.labels_)
    est.model_.train()  # train-mode batch norm gives other maps: the defect this avoids
    with torch.no_grad():
        train_mode = est.model_.features(torch.from_numpy(X)).numpy()
    assert not np.allclose(train_mode, est.transform(X))


@pytest.mark.parametrize("owner", ["dcca_core.training.dcca", "dcca_core.training.topk_dcca"])
def test_dcca_checkpoints_are_keyed_by_every_module_of_kmeans(owner):
    # both DCCA loops start (and DCCA-lin re-runs) KMeans: a change in its seeding or Lloyd kernels
    # must retrain rather than reuse a checkpoint that began from other centres
    import importlib

    from dcca_core.cluster import KMEANS_CODE

    code = importlib.import_module(owner).TRAINING_CODE
    assert set(KMEANS_CODE) <= set(code) and owner in code
