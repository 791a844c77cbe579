import numpy as np
import pytest
import torch

from dcca_core.checkpoints import Checkpointer
from dcca_core.data import load_mnist
from dcca_core.metrics import cluster_accuracy
from dcca_core.models.autoencoders import DenseAutoencoder
from dcca_core.models.dec import DEC, kl_divergence, target_distribution
from dcca_core.training.dec import DECClusterer, DECConfig, dec_step, fit_dec, predict_proba
from dcca_core.training.sdae import SDAEConfig, denoising_loss, extend_finetuning, pretrain_sdae

SMALL = SDAEConfig(dims=(784, 64, 32, 8), layerwise_epochs=2, finetune_epochs=3, batch_size=64, lr=1e-3)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def mnist_small():
    """The first 600 MNIST test images, scaled to [0, 1], with their labels."""
    x, y = load_mnist("test")
    return x[:600].reshape(600, -1).astype(np.float32) / 255.0, np.asarray(y[:600])


@pytest.fixture(scope="module")
def pretrained(mnist_small, tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    return pretrain_sdae(mnist_small[0], SMALL, seed=0, device="cpu", checkpoint_dir=root, progress=False), root


def test_pretraining_lowers_every_stage_loss(pretrained):
    result, _ = pretrained
    assert len(result.layer_histories) == 3
    for history in [*result.layer_histories, result.finetune_history]:
        assert history.epoch_loss[-1] < history.epoch_loss[0]
    assert result.model.dims == [784, 64, 32, 8] and not result.reused


def test_pretraining_reuses_a_finished_checkpoint(mnist_small, pretrained):
    result, root = pretrained
    again = pretrain_sdae(mnist_small[0], SMALL, seed=0, device="cpu", checkpoint_dir=root, progress=False)
    assert again.reused and again.checkpoint_key == result.checkpoint_key
    for a, b in zip(again.model.state_dict().values(), result.model.state_dict().values(), strict=False):
        assert torch.equal(a, b)
    assert again.layer_histories[0].epoch_loss == result.layer_histories[0].epoch_loss
    other = SDAEConfig(**{**SMALL.__dict__, "finetune_epochs": 4})
    assert (
        pretrain_sdae(
            mnist_small[0][:100], other, seed=0, device="cpu", checkpoint_dir=root, progress=False
        ).checkpoint_key
        != result.checkpoint_key
    )


def test_denoising_loss_corrupts_the_input_but_scores_against_the_clean_batch():
    torch.manual_seed(0)
    model = DenseAutoencoder([6, 4, 2])
    xb = torch.rand(16, 6)
    clean, _ = denoising_loss(0.0)(model, xb)
    assert float(clean.detach()) == pytest.approx(float(torch.nn.functional.mse_loss(model(xb)[0], xb).detach()))
    noisy = [float(denoising_loss(0.5)(model, xb)[0].detach()) for _ in range(3)]
    assert len(set(noisy)) > 1  # a fresh corruption each call


def test_one_dec_step_moves_centres_and_lowers_kl_on_a_fixed_batch(mnist_small, pretrained):
    x, _ = mnist_small
    torch.manual_seed(0)
    model = DEC(DenseAutoencoder(SMALL.dims), n_clusters=10)
    model.load_state_dict(
        {f"autoencoder.{k}": v for k, v in pretrained[0].model.state_dict().items()}
        | {"assignment.centers": torch.zeros(10, 8)}
    )
    with torch.no_grad():
        model.assignment.set_centers(model.encode(torch.from_numpy(x[:10])))
    xb = torch.from_numpy(x[:256])
    pb = target_distribution(model(xb)[0].detach())
    before_centres = model.assignment.centers.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses = dec_step(model, opt, xb, pb)
    assert losses["reconstruction"] == 0.0
    assert not torch.equal(model.assignment.centers.detach(), before_centres)
    with torch.no_grad():
        after = float(kl_divergence(pb, model(xb)[0]))
    assert after < losses["kl"]


def test_idec_step_adds_the_reconstruction_loss(mnist_small, pretrained):
    x, _ = mnist_small
    model = DEC(pretrained[0].model, n_clusters=10)
    model.assignment.set_centers(torch.randn(10, 8, generator=torch.Generator().manual_seed(0)))
    xb = torch.from_numpy(x[:64])
    pb = target_distribution(model(xb)[0].detach())
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    losses = dec_step(model, opt, xb, pb, gamma=0.1)
    assert losses["reconstruction"] > 0
    assert losses["loss"] == pytest.approx(losses["reconstruction"] + 0.1 * losses["kl"], rel=1e-5)


def _fit(pretrained, x, y=None, checkpoint=None, **overrides):
    cfg = DECConfig(
        **{"update_interval": 5, "max_iter": 10, "batch_size": 64, "kmeans_n_init": 2, "tol": 0.0, **overrides}
    )
    return DECClusterer(
        pretrained[0].model, cfg, random_state=0, device="cpu", checkpoint=checkpoint, progress=False
    ).fit(x, y)


def test_clusterer_fits_logs_accuracy_and_leaves_the_autoencoder_untouched(mnist_small, pretrained):
    x, y = mnist_small
    before = {k: v.clone() for k, v in pretrained[0].model.state_dict().items()}
    dec = _fit(pretrained, x, y)
    assert dec.labels_.shape == (600,) and dec.cluster_centers_.shape == (10, 8)
    assert dec.history_.iteration == [0, 5, 10] and dec.n_iter_ == 10 and not dec.history_.converged
    assert len(dec.history_.loss) == 2 and len(dec.history_.accuracy) == 3
    # the last logged accuracy is that of the final labels (no step after the last update)
    assert dec.history_.accuracy[-1] == cluster_accuracy(y, dec.labels_)
    q = dec.predict_proba(x)
    assert np.allclose(q.sum(axis=1), 1.0) and np.array_equal(q.argmax(1), dec.labels_)
    assert dec.transform(x).shape == (600, 8)
    for k, v in pretrained[0].model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_stopping_rule_triggers_when_few_assignments_change(mnist_small, pretrained):
    x, _ = mnist_small
    # with tol = 1 every update after the first satisfies "changed < tol": stop after one block
    dec = _fit(pretrained, x, tol=0.999, max_iter=1000)
    assert dec.history_.converged and dec.n_iter_ == 5 and dec.history_.iteration == [0, 5]
    assert dec.history_.delta_label[-1] < 0.999


def test_same_seed_gives_the_same_clustering(mnist_small, pretrained):
    x, _ = mnist_small
    a, b = _fit(pretrained, x), _fit(pretrained, x)
    assert np.array_equal(a.labels_, b.labels_) and np.array_equal(a.cluster_centers_, b.cluster_centers_)


def test_interrupted_dec_resumes_to_the_same_result(mnist_small, pretrained, tmp_path):
    x, _ = mnist_small
    straight = _fit(pretrained, x, max_iter=10, gamma=0.1)
    ckpt = Checkpointer("dec-test", {"case": "resume"}, root=tmp_path)
    first = _fit(pretrained, x, checkpoint=ckpt, max_iter=5, gamma=0.1)  # "interrupted" after one block
    assert first.n_iter_ == 5 and ckpt.exists()
    resumed = _fit(pretrained, x, checkpoint=ckpt, max_iter=10, gamma=0.1)
    assert resumed.history_.resumed_from_iter == 5 and resumed.n_iter_ == 10
    assert resumed.history_.iteration == straight.history_.iteration
    assert np.array_equal(resumed.cluster_centers_, straight.cluster_centers_)
    assert np.array_equal(resumed.labels_, straight.labels_)


def test_bad_configs_and_inputs_are_rejected(mnist_small, pretrained):
    with pytest.raises(ValueError, match="n_clusters"):
        DECConfig(n_clusters=1)
    with pytest.raises(ValueError, match="tol"):
        DECConfig(tol=1.5)
    with pytest.raises(ValueError, match="corruption"):
        SDAEConfig(corruption=1.0)
    with pytest.raises(ValueError, match="features"):
        pretrain_sdae(np.zeros((10, 5), np.float32), SMALL, progress=False)
    with pytest.raises(ValueError, match="NaN"):
        pretrain_sdae(np.full((10, 784), np.nan, np.float32), SMALL, progress=False)
    with pytest.raises(ValueError, match="n_clusters"):
        fit_dec(DEC(pretrained[0].model, 5), mnist_small[0], DECConfig(n_clusters=10), progress=False)
    with pytest.raises(ValueError, match="not fitted"):
        DECClusterer(pretrained[0].model).predict(mnist_small[0])
    with pytest.raises(ValueError, match="y must have shape"):
        _fit(pretrained, mnist_small[0], y=np.zeros(3))


def test_interrupted_pretraining_resumes_to_the_same_weights(mnist_small, pretrained, tmp_path, monkeypatch):
    import dcca_core.training.sdae as dt

    real = dt.fit_autoencoder

    def stop_after_first_finetune_epoch(*args, **kwargs):
        if kwargs.get("desc") == "fine-tune":

            def interrupt(epoch, model, history):
                if epoch == 1:  # during epoch 2, after epoch 1 was checkpointed
                    raise KeyboardInterrupt("simulated interrupt")

            kwargs["on_epoch_end"] = interrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(dt, "fit_autoencoder", stop_after_first_finetune_epoch)
    with pytest.raises(KeyboardInterrupt):
        pretrain_sdae(mnist_small[0], SMALL, seed=0, device="cpu", checkpoint_dir=tmp_path, progress=False)
    monkeypatch.setattr(dt, "fit_autoencoder", real)
    resumed = pretrain_sdae(mnist_small[0], SMALL, seed=0, device="cpu", checkpoint_dir=tmp_path, progress=False)
    assert resumed.finetune_history.resumed_from_epoch == 1 and len(resumed.finetune_history.epoch_loss) == 3
    assert all(h.resumed_from_epoch == 2 for h in resumed.layer_histories)  # finished layers are loaded
    for a, b in zip(resumed.model.state_dict().values(), pretrained[0].model.state_dict().values(), strict=False):
        assert torch.equal(a, b)


def test_extended_finetuning_equals_training_longer_from_scratch(mnist_small, pretrained, tmp_path):
    import shutil
    from dataclasses import replace

    x = mnist_small[0]
    longer = replace(SMALL, finetune_epochs=SMALL.finetune_epochs + 2)
    extended_root = shutil.copytree(pretrained[1], tmp_path / "extended")
    assert extend_finetuning(x, longer, SMALL.finetune_epochs, seed=0, checkpoint_dir=extended_root)
    assert not extend_finetuning(x, longer, SMALL.finetune_epochs, seed=0, checkpoint_dir=extended_root)
    extended = pretrain_sdae(x, longer, seed=0, device="cpu", checkpoint_dir=extended_root, progress=False)
    scratch = pretrain_sdae(x, longer, seed=0, device="cpu", checkpoint_dir=tmp_path / "scratch", progress=False)
    assert extended.finetune_history.resumed_from_epoch == SMALL.finetune_epochs and not extended.reused
    assert extended.finetune_history.epoch_loss == scratch.finetune_history.epoch_loss
    for a, b in zip(extended.model.state_dict().values(), scratch.model.state_dict().values(), strict=False):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="from_epochs"):
        extend_finetuning(x, longer, longer.finetune_epochs, seed=0, checkpoint_dir=extended_root)
    with pytest.raises(FileNotFoundError, match="no finished 1-epoch fine-tuning.*finetune_epochs=1"):
        extend_finetuning(x, longer, 1, seed=0, checkpoint_dir=tmp_path / "empty")


def test_dec_killed_mid_run_resumes_from_its_last_block(mnist_small, pretrained, tmp_path, monkeypatch):
    import copy

    import dcca_core.training.dec as dt

    x, _ = mnist_small
    cfg = DECConfig(update_interval=5, max_iter=15, batch_size=64, kmeans_n_init=2, tol=0.0, gamma=0.1)
    straight = DEC(copy.deepcopy(pretrained[0].model), 10)
    fit_dec(straight, x, cfg, device="cpu", progress=False)

    calls = {"n": 0}
    real_step = dt.dec_step

    def dies_in_block_three(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 12:
            raise KeyboardInterrupt("simulated kill")
        return real_step(*args, **kwargs)

    ckpt = Checkpointer("dec-kill", {"case": "kill"}, root=tmp_path)
    monkeypatch.setattr(dt, "dec_step", dies_in_block_three)
    with pytest.raises(KeyboardInterrupt):
        fit_dec(
            DEC(copy.deepcopy(pretrained[0].model), 10),
            x,
            cfg,
            device="cpu",
            checkpoint=ckpt,
            progress=False,
            save_every_s=0.0,
        )
    monkeypatch.setattr(dt, "dec_step", real_step)
    resumed = DEC(copy.deepcopy(pretrained[0].model), 10)
    history = fit_dec(resumed, x, cfg, device="cpu", checkpoint=ckpt, progress=False)
    assert history.resumed_from_iter == 10 and history.n_iter == 15
    assert torch.equal(resumed.assignment.centers, straight.assignment.centers)
    assert np.array_equal(predict_proba(resumed, x), predict_proba(straight, x))


def test_dec_checkpoints_are_keyed_by_every_module_of_kmeans():
    # DEC starts from KMeans on the codes: a change in its seeding or Lloyd kernels must not reuse a
    # checkpoint trained from another start
    import pkgutil

    import dcca_core.cluster as cluster
    from dcca_core.training.dec import CLUSTERING_CODE

    modules = {f"dcca_core.cluster.{m.name}" for m in pkgutil.iter_modules(cluster.__path__)}
    assert modules and modules == set(cluster.KMEANS_CODE)
    assert modules <= set(CLUSTERING_CODE)
