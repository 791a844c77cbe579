"""How `make setup` installs the project: the hash-locked requirements, torch from TORCH_INDEX, no
Debian package from the test targets, and a build-system that can read our licence field.

The Makefile checks use `make -n` (print the commands, run none) with a throwaway VENV, so nothing is
installed; `make lock` runs against a stand-in pip-compile."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _env() -> dict[str, str]:
    """The environment without make's own variables (a `make test TORCH_INDEX=...` above us would
    hand TORCH_INDEX down through MAKEFLAGS) and without TORCH_INDEX."""
    drop = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "TORCH_INDEX"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _make(*args: str, cwd: Path = ROOT, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


def _dry_run(target: str, venv: Path, *variables: str) -> str:
    """The commands `make <target>` would run for a venv that does not exist yet."""
    return _make("-n", target, f"VENV={venv}", *variables).stdout


def _pins(text: str) -> dict[str, str]:
    """name → version of every `name==version` line (requirements.txt or the lock)."""
    return {
        canonicalize_name(m.group(1)): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\#]+)", text, re.M)
    }


def _pip_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "-m pip" in line and " install " in line]


# --------------------------------------------------------------------------------------------------
# TORCH_INDEX


@needs_make
def test_torch_index_reaches_the_torch_install_only(tmp_path):
    out = _dry_run("setup", tmp_path / "venv", "TORCH_INDEX=https://example.invalid/whl/cpu")
    torch_lines = [line for line in _pip_lines(out) if re.search(r"\btorch==", line)]
    assert len(torch_lines) == 1, out
    assert "--index-url https://example.invalid/whl/cpu" in torch_lines[0]
    assert re.search(r"""["']?torch==\d""", torch_lines[0])
    # the index is for torch alone: the locked packages and the project come from the default index
    others = [line for line in _pip_lines(out) if line not in torch_lines]
    assert others and not any("--index-url" in line or "example.invalid" in line for line in others), out


@needs_make
def test_without_torch_index_no_index_url(tmp_path):
    out = _dry_run("setup", tmp_path / "venv")
    assert any(re.search(r"\btorch==", line) for line in _pip_lines(out)), out
    assert "--index-url" not in out


@needs_make
def test_torch_is_installed_at_the_version_pinned_in_requirements_txt(tmp_path):
    pinned = _pins((ROOT / "requirements.txt").read_text())["torch"]
    out = _dry_run("setup", tmp_path / "venv")
    assert f"torch=={pinned}" in out


# --------------------------------------------------------------------------------------------------
# The lock file


@needs_make
def test_setup_installs_from_the_lock_with_require_hashes(tmp_path):
    out = _dry_run("setup", tmp_path / "venv")
    lock_lines = [line for line in _pip_lines(out) if "requirements.lock" in line]
    assert len(lock_lines) == 1 and "--require-hashes" in lock_lines[0], out
    assert not any(re.search(r"-r\s+requirements\.txt", line) for line in _pip_lines(out)), out
    # the project itself stays an editable install without dependencies
    assert any("--no-deps -e ." in line for line in _pip_lines(out)), out
    # the lock is installed before torch, so torch's own dependencies come hashed from the lock
    pip = _pip_lines(out)
    assert pip.index(lock_lines[0]) < next(i for i, line in enumerate(pip) if re.search(r"\btorch==", line))


@needs_make
def test_the_venv_stamp_depends_on_the_lock(tmp_path):
    for name in ("Makefile", "requirements.txt", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    venv = tmp_path / "venv"
    venv.mkdir()
    stamp = venv / ".installed"
    stamp.touch()
    t = stamp.stat().st_mtime
    for name in ("Makefile", "requirements.txt", "pyproject.toml", "requirements.lock"):
        os.utime(tmp_path / name, (t - 100, t - 100))
    assert _make("-q", str(stamp), f"VENV={venv}", cwd=tmp_path, check=False).returncode == 0
    os.utime(tmp_path / "requirements.lock", (t + 100, t + 100))
    assert _make("-q", str(stamp), f"VENV={venv}", cwd=tmp_path, check=False).returncode == 1


def test_lock_pins_every_requirement_with_hashes():
    text = LOCK.read_text()
    assert "make lock" in "".join(line for line in text.splitlines()[:12] if line.startswith("#")), (
        "the lock's opening comment says how to regenerate it"
    )
    lock = _pins(text)
    wanted = _pins((ROOT / "requirements.txt").read_text())
    wanted.pop("torch")
    assert {n: v for n, v in wanted.items() if lock.get(n) != v} == {}
    # the transitive packages that move results are locked too
    assert {"numba", "llvmlite", "pynndescent", "joblib", "threadpoolctl", "numpy", "scipy"} <= lock.keys()
    # torch (and the CUDA libraries only PyPI's torch build needs) stay out: see the lock's header
    assert "torch" not in lock
    assert not [n for n in lock if n.startswith(("nvidia-", "cuda-")) or n == "triton"]
    # every entry carries at least one sha256, so pip --require-hashes accepts the file
    entries = re.split(r"\n(?=[A-Za-z0-9])", text[re.search(r"^[A-Za-z0-9]", text, re.M).start() :])
    assert len(entries) == len(lock)
    assert [e.split()[0] for e in entries if not re.search(r"--hash=sha256:[0-9a-f]{64}", e)] == []


@pytest.mark.skipif(
    Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(),
    reason="checks the project's own .venv (made by make setup)",
)
def test_the_venv_holds_what_the_lock_says():
    lock = _pins(LOCK.read_text())
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    assert {n: (v, installed.get(n)) for n, v in lock.items() if installed.get(n) != v} == {}
    torch_pin = _pins((ROOT / "requirements.txt").read_text())["torch"]
    assert Version(installed["torch"]).public == Version(torch_pin).public


@needs_make
def test_make_lock_filters_and_documents_what_pip_compile_writes(tmp_path):
    """`make lock` against a stand-in pip-compile: it starts from the existing lock (so pins move
    only when requirements.txt asks), asks for hashes, leaves torch out, drops the CUDA-only
    packages that PyPI's torch build brings, and puts the header on top."""
    for name in ("Makefile", "requirements.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "requirements.lock").write_text("numpy==2.4.6 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    tools = tmp_path / "tools" / "bin"
    tools.mkdir(parents=True)
    canned = textwrap.dedent("""\
        numpy==2.4.6 \\
            --hash=sha256:{a}
            # via -r requirements.txt
        nvidia-cublas-cu12==12.8.4.1 \\
            --hash=sha256:{b}
            # via torch
        sympy==1.14.0 \\
            --hash=sha256:{c}
            # via torch
        triton==3.5.0 \\
            --hash=sha256:{d}
            # via torch
        wheel==0.48.0 \\
            --hash=sha256:{e}
            # via sphinx-togglebutton

        # WARNING: The following packages were not pinned, but pip requires them to be
        # pinned when the requirements file includes hashes and the requirement is not
        # satisfied by a package already installed. Consider using the --allow-unsafe flag.
        # torch
        """).format(a="a" * 64, b="b" * 64, c="c" * 64, d="d" * 64, e="e" * 64)
    (tmp_path / "canned.txt").write_text(canned)
    fake = tools / "pip-compile"
    fake.write_text(
        textwrap.dedent(f"""\
        #!/usr/bin/env bash
        echo "$@" > {tmp_path}/args.txt
        while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
        cp "$out" {tmp_path}/seen.txt
        cp {tmp_path}/canned.txt "$out"
        """)
    )
    fake.chmod(0o755)
    _make("lock", f"LOCK_TOOLS={tools.parent}", cwd=tmp_path)
    args = (tmp_path / "args.txt").read_text()
    assert "--generate-hashes" in args and "--unsafe-package torch" in args and "requirements.txt" in args
    assert "--upgrade" not in args
    assert "numpy==2.4.6" in (tmp_path / "seen.txt").read_text()  # started from the old lock
    out = (tmp_path / "requirements.lock").read_text()
    assert out.startswith("# requirements.lock") and "make lock" in out.split("\n\n")[0]
    assert set(_pins(out)) == {"numpy", "sympy", "wheel"}
    assert "WARNING" not in out and out.endswith("# via sphinx-togglebutton\n")
    assert not (tmp_path / "requirements.lock.tmp").exists()
    _make("lock", f"LOCK_TOOLS={tools.parent}", "UPGRADE=1", cwd=tmp_path)
    assert "--upgrade" in (tmp_path / "args.txt").read_text()


# --------------------------------------------------------------------------------------------------
# Debian packages come from make setup only


@needs_make
@pytest.mark.parametrize("target", ["test", "test-fast"])
def test_test_targets_install_no_debian_package(tmp_path, target):
    out = _dry_run(target, tmp_path / "venv")
    assert any("requirements.lock" in line for line in _pip_lines(out)), out  # the venv is still made
    assert "apt-get" not in out and "system-deps" not in out, out
    assert "-m pytest" in out


@needs_make
def test_setup_is_where_debian_packages_come_from(tmp_path):
    out = _dry_run("setup", tmp_path / "venv")
    assert "apt-get install" in out


def test_ci_runs_exactly_make_test():
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert commands[-1] == "make test"
    assert not [line for line in commands if "apt-get" in line or "make setup" in line]


# --------------------------------------------------------------------------------------------------
# pyproject and requirements


def test_build_system_can_read_the_spdx_licence():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert isinstance(project["project"]["license"], str)  # PEP 639: license = "MIT"
    # setuptools reads a licence expression from 77.0 on; older ones reject the field
    setuptools = [
        Requirement(r)
        for r in project["build-system"]["requires"]
        if canonicalize_name(Requirement(r).name) == "setuptools"
    ]
    assert setuptools, "setuptools must be in [build-system] requires"
    spec = setuptools[0].specifier
    assert not spec.contains("76.9") and not spec.contains("64.0") and spec.contains("77.0")


def test_platformdirs_is_a_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "platformdirs" in {canonicalize_name(Requirement(r).name) for r in project["project"]["dependencies"]}
    assert "platformdirs" in _pins((ROOT / "requirements.txt").read_text())
    assert "platformdirs" in _pins(LOCK.read_text())
