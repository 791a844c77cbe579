from pathlib import Path

import numpy as np
import pytest
import torch

from dcca_core.utils import (
    PROGRESS_LOG_ENV,
    Timer,
    as_tensor,
    batched,
    check_2d,
    cpu_model,
    dec_block_seed,
    epoch_seed,
    get_device,
    keep_torch_threads,
    layer_seed,
    library_versions,
    machine_info,
    mean_sd,
    progress_bar,
    set_seed,
    split_seed,
)


def _small_run(seed: int) -> torch.Tensor:
    set_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(16, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x = torch.randn(64, 8)
    y = torch.from_numpy(np.random.rand(64, 1).astype(np.float32))
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_set_seed_makes_a_small_torch_run_repeat_bit_for_bit():
    first, second = _small_run(3), _small_run(3)
    assert torch.equal(first, second)
    assert not torch.equal(first, _small_run(4))


def test_set_seed_rejects_negative():
    with pytest.raises(ValueError, match="seed"):
        set_seed(-1)


def test_get_device_auto_and_explicit():
    assert get_device("auto").type in {"cpu", "cuda", "mps"}
    assert get_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device"):
        get_device("tpu9")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            get_device("cuda")


def test_as_tensor_and_timer(monkeypatch):
    t = as_tensor(np.arange(6, dtype=np.int64).reshape(2, 3))
    assert t.dtype == torch.float32 and t.shape == (2, 3)
    clock = iter([10.0, 12.5])
    monkeypatch.setattr("dcca_core.utils.time.perf_counter", lambda: next(clock))
    with Timer() as timer:
        pass
    assert timer.seconds == 2.5  # exit time − enter time


def test_check_2d_names_the_argument_and_the_layout():
    x = np.arange(6, dtype=np.float64).reshape(3, 2)
    assert check_2d(x).data_ptr() == torch.from_numpy(x).data_ptr()  # no copy, dtype kept
    with pytest.raises(ValueError, match=r"series must be 2-D \(n_points, n_channels\), got shape \(6,\)"):
        check_2d(x.ravel(), "series", layout="(n_points, n_channels)")
    with pytest.raises(ValueError, match="codes is empty"):
        check_2d(np.zeros((0, 3)), "codes")
    with pytest.raises(ValueError, match="X contains NaN"):
        check_2d(np.array([[1.0, np.inf]]))


class _Affine(torch.nn.Module):
    def forward(self, x):
        return 3 * x + 1, x.sum(dim=1)


def test_batched_concatenates_every_batch_in_order_without_gradients():
    x = torch.arange(14, dtype=torch.float32).reshape(7, 2).requires_grad_()
    model = _Affine()
    seen = []

    def fn(xb):
        seen.append(len(xb))
        return model(xb)

    y, s = batched(fn, x, batch_size=3, device="cpu")
    assert seen == [3, 3, 1]  # the last batch is the remainder
    assert torch.equal(y, 3 * x.detach() + 1) and torch.equal(s, x.detach().sum(dim=1))
    assert not y.requires_grad and y.device.type == "cpu"
    assert torch.equal(batched(lambda xb: xb[:, 0], x, 5, "cpu"), x.detach()[:, 0])  # one tensor out
    with pytest.raises(ValueError, match="batch_size"):
        batched(fn, x, 0, "cpu")


def test_derived_seeds_keep_the_formulas_the_committed_runs_used():
    assert epoch_seed(7, 3) == 7 * 100_003 + 3 == 700_024
    assert epoch_seed(7, 3, phase=2) == 7 * 100_003 + 2_000 + 3
    assert dec_block_seed(2, 140) == 2 * 1_000_003 + 140 == 2_000_146
    assert layer_seed(5, 3) == 5 * 31 + 3 == 158
    assert split_seed(0, 4) == [0, 4]
    assert np.random.default_rng(split_seed(0, 4)).integers(1 << 30) == np.random.default_rng([0, 4]).integers(1 << 30)
    # training/loop.py writes its epoch seed out (its source is in the checkpoint keys): it must stay
    # the formula epoch_seed documents
    loop = Path(__file__).parents[1] / "dcca_core" / "training" / "loop.py"
    assert "torch.manual_seed(seed * 100_003 + epoch)" in loop.read_text()


def test_mean_sd_by_hand():
    stats = mean_sd([0.8, 0.7, 0.9])
    assert stats.mean == pytest.approx(0.8) and stats.n == 3 and stats.ddof == 1
    assert stats.sd == pytest.approx(0.1)  # sqrt((0.01 + 0.01 + 0) / 2)
    assert mean_sd([0.8, 0.7, 0.9], ddof=0).sd == pytest.approx(np.sqrt(0.02 / 3))
    assert stats.label() == "mean ± sd over 3 seeds (ddof=1)"
    one = mean_sd([0.8])
    assert one.mean == 0.8 and np.isnan(one.sd)  # undefined, not 0
    table = mean_sd(np.array([[1.0, 2.0], [3.0, 6.0]]), axis=0)
    assert np.allclose(table.mean, [2.0, 4.0]) and np.allclose(table.sd, [np.sqrt(2), np.sqrt(8)])
    with pytest.raises(ValueError, match="at least one value"):
        mean_sd([])


def test_library_versions_names_torch():
    versions = library_versions()
    assert versions["torch"].startswith("2.")
    assert "python" in versions


CPUINFO_XEON = """processor\t: 0
model name\t: Intel Xeon Processor
flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8

processor\t: 1
model name\t: Some Other CPU
flags\t\t: fpu
"""


def test_cpu_model_reads_the_first_processor_and_the_kernel_flags():
    info = cpu_model(CPUINFO_XEON)
    assert info == {
        "cpu_model": "Intel Xeon Processor",
        "cpu_flags": ["avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"],
    }
    epyc = cpu_model("model name\t: AMD EPYC\nflags\t\t: fpu avx avx2 fma\n")
    assert epyc == {"cpu_model": "AMD EPYC", "cpu_flags": ["avx2"]}
    assert cpu_model("")["cpu_flags"] == []  # no /proc/cpuinfo: the platform's name, no flags


def test_machine_info_says_which_cpu_and_kernel_level_ran_the_numbers():
    info = machine_info()
    assert info["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert info["cpu_model"] and isinstance(info["cpu_flags"], list)
    assert info["cpu_count"] >= 1 and info["torch_threads"] == torch.get_num_threads()


def test_keep_torch_threads_restores_the_count_even_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError):
        with keep_torch_threads():
            torch.set_num_threads(before + 1)
            raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_progress_bars_go_to_the_log_file_as_lines_when_the_runner_asks(tmp_path, monkeypatch):
    log = tmp_path / "chapter.log"
    monkeypatch.setenv(PROGRESS_LOG_ENV, str(log))
    monkeypatch.setenv("TQDM_DISABLE", "1")  # what the runner sets for other libraries' bars
    assert sum(progress_bar(range(5), desc="train epoch 1/2")) == 10
    lines = log.read_text().splitlines()
    assert lines and all("\r" not in line for line in lines)
    assert any("train epoch 1/2" in line and "5/5" in line for line in lines)
    log.write_text("")
    list(progress_bar(range(3), desc="quiet", enabled=False))
    assert log.read_text() == ""


def test_progress_bars_respect_tqdm_disable_outside_the_runner(monkeypatch):
    monkeypatch.delenv(PROGRESS_LOG_ENV, raising=False)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_bar(range(3), desc="x").disable
    monkeypatch.delenv("TQDM_DISABLE")
    assert not progress_bar(range(3), desc="x").disable
    assert progress_bar(range(3), desc="x", enabled=False).disable


def test_metrics_over_seeds_keeps_shared_metrics_and_their_spread():
    from dcca_core.utils import metrics_over_seeds

    runs = [{"acc": 0.8, "n": 34, "only_first": 1.0}, {"acc": 0.7, "n": 34}]
    out = metrics_over_seeds(runs, spread=lambda name: name != "n")
    assert out["acc"] == pytest.approx(0.75) and out["acc_std"] == pytest.approx(0.1 / np.sqrt(2))
    assert out["n"] == 34 and "n_std" not in out and "only_first" not in out  # not every seed has it
    assert "acc_std" not in metrics_over_seeds(runs[:1])  # one seed: no sd, not a made-up 0
    assert metrics_over_seeds(runs, ddof=0)["acc_std"] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="at least one seed"):
        metrics_over_seeds([])
