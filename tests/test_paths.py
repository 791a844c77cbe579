"""Where the library writes: env var first, then the checkout's folders, then the per-user cache."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from dcca_core import paths
from dcca_core.data import fetch

REPO = Path(__file__).resolve().parents[1]
KINDS = ("data", "results", "checkpoints")


@pytest.fixture
def no_dir_env(monkeypatch):
    """None of DCCA_DATA_DIR / DCCA_RESULTS_DIR / DCCA_CHECKPOINT_DIR set."""
    for name in paths.DIR_ENV_VARS.values():
        monkeypatch.delenv(name, raising=False)


def _fake_install(tmp_path: Path, pyproject: str | None) -> Path:
    """A `dcca_core` folder under tmp_path/root, with the given pyproject.toml beside it (None: none)."""
    package = tmp_path / "root" / "dcca_core"
    package.mkdir(parents=True)
    if pyproject is not None:
        (package.parent / "pyproject.toml").write_text(pyproject)
    return package


@pytest.mark.parametrize("kind", KINDS)
def test_environment_variable_wins(kind, tmp_path, monkeypatch, no_dir_env):
    monkeypatch.setenv(paths.DIR_ENV_VARS[kind], str(tmp_path / kind))
    assert paths.writable_dir(kind) == tmp_path / kind
    monkeypatch.setattr(paths, "PACKAGE_DIR", _fake_install(tmp_path, None))  # outside a checkout too
    assert paths.writable_dir(kind) == tmp_path / kind
    monkeypatch.setenv(paths.DIR_ENV_VARS[kind], "~/somewhere")
    assert paths.writable_dir(kind) == Path.home() / "somewhere"


@pytest.mark.parametrize("kind", KINDS)
def test_inside_this_checkout_the_repository_folders_are_used(kind, no_dir_env):
    assert paths.checkout_root() == REPO
    assert paths.writable_dir(kind) == REPO / kind


def test_a_checkout_is_recognised_by_its_pyproject(tmp_path, monkeypatch, no_dir_env):
    package = _fake_install(tmp_path, '[build-system]\nrequires = []\n\n[project]\nname = "DCCA.Core"\n')
    monkeypatch.setattr(paths, "PACKAGE_DIR", package)
    assert paths.checkout_root() == package.parent
    assert paths.writable_dir("results") == package.parent / "results"
    monkeypatch.setitem(sys.modules, "tomllib", None)  # Python 3.10: the fallback parser
    assert paths.checkout_root() == package.parent


@pytest.mark.parametrize(
    "pyproject", [None, '[project]\nname = "someone-elses-app"\n', "not [valid toml", '[tool.x]\nname = "dcca-core"\n']
)
@pytest.mark.parametrize("kind", KINDS)
def test_outside_a_checkout_the_user_cache_is_used(kind, pyproject, tmp_path, monkeypatch, no_dir_env):
    monkeypatch.setattr(paths, "PACKAGE_DIR", _fake_install(tmp_path, pyproject))  # e.g. site-packages
    monkeypatch.chdir(tmp_path)
    assert paths.checkout_root() is None
    expected = Path(platformdirs.user_cache_dir("dcca-book", appauthor=False)) / kind
    assert paths.writable_dir(kind) == expected
    assert not paths.writable_dir(kind).is_relative_to(tmp_path)  # never the current directory


def test_outside_a_checkout_data_goes_to_the_user_cache_and_no_repo_folders_are_searched(
    tmp_path, monkeypatch, no_dir_env
):
    monkeypatch.delenv("DCCA_DATA_SEARCH", raising=False)
    monkeypatch.setattr(paths, "PACKAGE_DIR", _fake_install(tmp_path, None))
    monkeypatch.chdir(tmp_path)
    assert fetch.data_dir() == paths.user_cache_root() / "data"
    roots = [folder for folder, _ in fetch.search_roots()]
    assert roots == [paths.user_cache_root() / "data", tmp_path / "data"]  # data dir, then ./data


def test_unknown_kind_is_an_error_listing_the_kinds():
    with pytest.raises(ValueError, match="unknown folder kind 'cache'; valid kinds: data, results, checkpoints"):
        paths.writable_dir("cache")
