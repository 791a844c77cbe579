import numpy as np
import pytest
import torch

from dcca_core.utils import (
    PROGRESS_LOG_ENV,
    Timer,
    as_tensor,
    get_device,
    keep_torch_threads,
    library_versions,
    progress_bar,
    set_seed,
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


def test_as_tensor_and_timer():
    t = as_tensor(np.arange(6, dtype=np.int64).reshape(2, 3))
    assert t.dtype == torch.float32 and t.shape == (2, 3)
    with Timer() as timer:
        sum(range(1000))
    assert timer.seconds >= 0


def test_library_versions_names_torch():
    versions = library_versions()
    assert versions["torch"].startswith("2.")
    assert "python" in versions


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
