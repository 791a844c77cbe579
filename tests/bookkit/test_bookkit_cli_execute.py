"""The book tooling (bookkit: CLI, execution, cache, build) on tiny books in temporary folders.

Tests that start a Jupyter kernel or jupyter-book are marked slow (a few seconds each).
"""

from __future__ import annotations

import hashlib
import json

import pytest

from bookkit.build import BookBuildError, build_book, find_local_mathjax, stage_book
from bookkit.cli import main
from bookkit.execute import ChapterExecutionError, cache_key, chapter_status, execute_book, execute_chapter, read_cache
from bookkit.layout import chapters_in_toc, read_toc
from bookkit.notebooks import coerce_parameter, declared_parameters, parse_override, resolve_parameters


def _digest(folder):
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- parameters --------------------------------------------------------------------------------


def test_declared_parameters_reads_the_tagged_cell(tiny_book):
    layout = tiny_book()
    assert list(declared_parameters(layout.notebook("00_a"))) == ["profile", "seed", "n", "fail", "sleep"]


def test_parameters_come_from_profile_then_yaml_then_overrides(tiny_book):
    layout = tiny_book()
    assert resolve_parameters(layout, "00_a", "smoke") == {"profile": "smoke"}
    assert resolve_parameters(layout, "00_a", "full") == {"profile": "full", "n": 5}
    assert resolve_parameters(layout, "00_a", "full", {"n": 7}) == {"profile": "full", "n": 7}


def test_unknown_parameter_in_yaml_is_an_error_naming_it_and_the_declared_ones(tiny_book):
    layout = tiny_book()
    layout.params_file("smoke", "00_a").write_text("epochs: 5\n")
    with pytest.raises(ValueError, match=r"unknown parameter 'epochs' for chapter 00_a") as info:
        resolve_parameters(layout, "00_a", "smoke")
    assert "declares: profile, seed, n, fail, sleep" in str(info.value)
    assert "00_a.yaml" in str(info.value)


def test_unknown_parameter_on_the_command_line_fails_before_any_chapter_runs(tiny_book, capsys):
    layout = tiny_book(["00_a", "01_b"])
    assert main(["--root", str(layout.root), "execute", "-p", "epochs", "5"]) == 1
    err = capsys.readouterr().err
    assert "unknown parameter 'epochs'" in err and "declares: profile, seed, n, fail, sleep" in err
    assert not (layout.build_dir / "executed" / "smoke").exists() or not any(
        (layout.build_dir / "executed" / "smoke").glob("*.ipynb")
    )


def test_profile_parameter_must_agree_with_the_run(tiny_book):
    layout = tiny_book()
    with pytest.raises(ValueError, match="contradicts"):
        resolve_parameters(layout, "00_a", "smoke", {"profile": "full"})


def test_full_profile_needs_its_params_file(tiny_book):
    layout = tiny_book()
    layout.params_file("full", "00_a").unlink()
    with pytest.raises(FileNotFoundError, match="full/00_a.yaml"):
        resolve_parameters(layout, "00_a", "full")


def test_params_file_must_be_a_mapping(tiny_book):
    layout = tiny_book()
    layout.params_file("smoke", "00_a").write_text("- n\n- 3\n")
    with pytest.raises(ValueError, match="must be a mapping"):
        resolve_parameters(layout, "00_a", "smoke")


@pytest.mark.parametrize(
    "text, default, value",
    [
        ("5", 3, 5),
        ("010", 1, 10),
        ("1e-3", 0.1, 1e-3),
        ("5", 0.1, 5.0),
        ("true", False, True),
        ("None", 3, None),
        ("null", None, None),
        ("no", "smoke", "no"),
        ("1:30", "x", "1:30"),
        ("[1, 010]", [0], [1, 10]),
        ("{a: 1}", {}, {"a": 1}),
        ("2024-01-01", None, "2024-01-01"),
    ],
)
def test_command_line_values_are_parsed_by_the_type_of_the_default(text, default, value):
    assert parse_override("x", text) == ("x", text)
    parsed = coerce_parameter("x", text, default)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    "text, default", [("1:30", 1), ("no", False), ("None", False), ("1.5", 3), ("adam", 0.1), ("5", [1]), ("[1]", {})]
)
def test_command_line_values_of_the_wrong_type_are_errors(text, default):
    with pytest.raises(ValueError, match=r"parameter x=.* must be"):
        coerce_parameter("x", text, default, origin="the command line")


def test_params_files_use_yaml_1_2_and_the_notebooks_types(tiny_book):
    layout = tiny_book()
    layout.params_file("full", "00_a").write_text("n: 010\nseed: 2\n")
    assert resolve_parameters(layout, "00_a", "full")["n"] == 10  # not 8, as YAML 1.1 reads it
    layout.params_file("full", "00_a").write_text("n: no\n")
    with pytest.raises(ValueError, match=r"parameter n='no' \(from .*00_a.yaml\) must be a whole number"):
        resolve_parameters(layout, "00_a", "full")
    assert resolve_parameters(layout, "00_a", "smoke", {"n": "010"})["n"] == 10


def test_parameter_names_must_be_identifiers():
    with pytest.raises(ValueError, match="identifier"):
        parse_override("n-epochs", "3")


# --- toc ---------------------------------------------------------------------------------------


def test_toc_naming_a_missing_notebook_is_a_clear_error(tiny_book):
    layout = tiny_book(["00_a"], toc_extra=("02_dec_mnist", "scoreboard"))
    with pytest.raises(FileNotFoundError, match=r"book/02_dec_mnist.ipynb \(or .md\)"):
        read_toc(layout)
    with pytest.raises(FileNotFoundError, match="02_dec_mnist"):
        stage_book(layout, "smoke", log=None)


def test_toc_order_gives_the_chapters(tiny_book):
    layout = tiny_book(["01_b", "00_a"])
    assert chapters_in_toc(layout) == ["01_b", "00_a"]
    assert [e.kind for e in read_toc(layout)] == ["markdown", "notebook", "notebook", "generated"]


# --- cache key ---------------------------------------------------------------------------------


def test_cache_key_changes_with_notebook_params_library_and_requirements(tiny_book):
    layout = tiny_book()
    params = {"profile": "smoke"}
    base = cache_key(layout, "00_a", "smoke", params)
    assert cache_key(layout, "00_a", "smoke", params) == base
    assert cache_key(layout, "00_a", "smoke", {"profile": "smoke", "n": 4}) != base
    assert cache_key(layout, "00_a", "full", params) != base
    (layout.root / "lib" / "core.py").write_text("VALUE = 2\n")
    after_lib = cache_key(layout, "00_a", "smoke", params)
    assert after_lib != base
    (layout.root / "lib" / "sub").mkdir()
    (layout.root / "lib" / "sub" / "new.py").write_text("")
    assert cache_key(layout, "00_a", "smoke", params) != after_lib
    after_new = cache_key(layout, "00_a", "smoke", params)
    (layout.root / "requirements.txt").write_text("numpy==2.4.6\n")
    assert cache_key(layout, "00_a", "smoke", params) != after_new
    after_req = cache_key(layout, "00_a", "smoke", params)
    from dataclasses import replace

    machinery = replace(layout, unhashed=(layout.root / "lib" / "sub",))  # like a folder no chapter imports
    before_edit = cache_key(machinery, "00_a", "smoke", params)
    (layout.root / "lib" / "sub" / "new.py").write_text("CHANGED = True\n")
    assert cache_key(machinery, "00_a", "smoke", params) == before_edit
    assert cache_key(layout, "00_a", "smoke", params) != after_req
    (layout.root / "lib" / "sub" / "new.py").write_text("")
    nb = layout.notebook("00_a")
    nb.write_text(nb.read_text().replace("A page to test", "A page that tests"))
    assert cache_key(layout, "00_a", "smoke", params) != after_req


def test_status_of_a_chapter_never_run(tiny_book, capsys):
    layout = tiny_book()
    assert chapter_status(layout, "smoke") == [
        {"chapter": "00_a", "state": "never run", "seconds": None, "finished": None}
    ]
    assert main(["--root", str(layout.root), "status"]) == 0
    assert "00_a" in capsys.readouterr().out


def test_keep_full_results_only_for_the_full_profile(tiny_book):
    layout = tiny_book()
    with pytest.raises(ValueError, match="full profile"):
        execute_chapter(layout, "00_a", "smoke", keep_full_results=True, log=None)


def _git(root, *args):
    import subprocess

    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=root, check=True, capture_output=True
    )


def test_a_kept_full_run_needs_a_clean_git_checkout_before_anything_runs(tiny_book):
    from bookkit.execute import checkout_changes

    layout = tiny_book()
    assert checkout_changes(layout.root) is None
    with pytest.raises(ValueError, match="needs a git checkout"):
        execute_book(layout, "full", keep_full_results=True, log=None)
    _git(layout.root, "init", "-q")
    _git(layout.root, "add", "-A")
    _git(layout.root, "commit", "-qm", "tiny book")
    assert checkout_changes(layout.root) == []
    (layout.root / "notes.txt").write_text("untracked files do not count\n")
    assert checkout_changes(layout.root) == []
    (layout.root / "lib" / "core.py").write_text("VALUE = 2\n")
    assert checkout_changes(layout.root) == ["lib/core.py"]
    with pytest.raises(ValueError, match=r"clean checkout.*lib/core\.py"):
        execute_book(layout, "full", keep_full_results=True, log=None)
    assert not layout.build_dir.exists() and not (layout.results_dir / "full").exists()


@pytest.mark.parametrize("commit", ["0" * 40 + "+dirty", "unknown", ""])
def test_a_record_that_names_no_clean_commit_is_not_kept(tmp_path, commit):
    from bookkit.execute import _require_clean_record

    results = tmp_path / "00_a.json"
    results.write_text(json.dumps({"chapter": "00_a", "profile": "full", "metrics": {}, "git_commit": commit}))
    with pytest.raises(ValueError, match="not a clean commit"):
        _require_clean_record(results)
    results.write_text(json.dumps({"chapter": "00_a", "profile": "full", "metrics": {}, "git_commit": "a" * 40}))
    _require_clean_record(results)


def test_unknown_chapter_is_an_error_listing_the_chapters(tiny_book):
    layout = tiny_book()
    with pytest.raises(ValueError, match=r"no chapter '02_dec'.*00_a"):
        execute_book(layout, "smoke", ["02_dec"], log=None)


# --- execution (starts a kernel) -----------------------------------------------------------------


@pytest.mark.slow
def test_second_execute_with_nothing_changed_executes_nothing(tiny_book):
    layout = tiny_book()
    book_before = _digest(layout.book_dir)
    lines: list[str] = []
    first = execute_book(layout, "smoke", log=lines.append)
    assert [r.status for r in first] == ["executed"]
    assert json.loads(layout.results_file("00_a").read_text())["metrics"]["acc"] == pytest.approx(0.53)
    assert layout.executed_notebook("smoke", "00_a").exists()
    assert any("00_a: executed in" in line for line in lines)
    second = execute_book(layout, "smoke", log=lines.append)
    assert [r.status for r in second] == ["cached"]
    assert chapter_status(layout, "smoke")[0]["state"] == "up to date"
    assert any("unchanged since its last run, skipped" in line for line in lines)
    assert _digest(layout.book_dir) == book_before  # nothing under book/ is modified
    # a results file rewritten by another run (e.g. another profile) means the chapter must run again
    layout.results_file("00_a").write_text(json.dumps({"profile": "full"}))
    entry = read_cache(layout, "smoke")["00_a"]
    from bookkit.execute import is_up_to_date

    assert not is_up_to_date(layout, "00_a", "smoke", entry["key"])
    assert chapter_status(layout, "smoke")[0]["state"] == "changed since last run"


@pytest.mark.slow
def test_a_cell_that_raises_fails_naming_chapter_cell_and_error_and_keeps_the_good_run(tiny_book):
    layout = tiny_book()
    book_before = _digest(layout.book_dir)
    good = execute_chapter(layout, "00_a", "smoke", log=None)
    good_copy = good.executed_path.read_bytes()
    entry = read_cache(layout, "smoke")["00_a"]
    layout.params_file("smoke", "00_a").write_text("fail: true\n")  # the next run of the same slot fails
    with pytest.raises(ChapterExecutionError) as info:
        execute_chapter(layout, "00_a", "smoke", log=None)
    err = info.value
    assert err.chapter == "00_a" and err.cell_index == 3 and err.first_line == "if fail:"
    assert "RuntimeError: tiny chapter was told to fail" in str(err)
    assert "chapter 00_a failed in cell 3" in str(err)
    assert err.executed_path.name == "00_a.failed.ipynb" and err.executed_path.exists()
    # the last good run is not lost: its executed copy and its cache entry are as they were
    assert layout.executed_notebook("smoke", "00_a").read_bytes() == good_copy
    assert read_cache(layout, "smoke")["00_a"] == entry
    assert chapter_status(layout, "smoke")[0]["state"] == "changed since last run"
    after = _digest(layout.book_dir)
    assert {k: v for k, v in after.items() if "params" not in str(k)} == {
        k: v for k, v in book_before.items() if "params" not in str(k)
    }  # the notebook itself is never modified


@pytest.mark.slow
def test_a_custom_run_goes_to_its_own_folder_and_is_labelled(tiny_book):
    layout = tiny_book()
    execute_chapter(layout, "00_a", "smoke", log=None)
    smoke_results = layout.results_file("00_a").read_bytes()
    run = execute_chapter(layout, "00_a", "smoke", overrides={"n": "010"}, log=None)
    folder = run.executed_path.parent
    assert folder.name.startswith("smoke-custom-") and folder == layout.executed_dir("smoke", {"n": 10})
    assert json.loads((folder / "run.json").read_text())["overrides"] == {"n": 10}
    assert json.loads(run.results_path.read_text())["metrics"]["acc"] == pytest.approx(0.60)  # n = 10, not 8
    assert run.results_path.parent == layout.results_dir / "custom" / folder.name
    assert layout.results_file("00_a").read_bytes() == smoke_results  # the smoke book's numbers are untouched
    src = stage_book(layout, "smoke", run=folder.name, log=None)
    import nbformat

    staged = nbformat.read(str(src / "00_a.ipynb"), as_version=4)
    assert "custom run" in staged.cells[1].source and "n=10" in staged.cells[1].source
    assert "0.6" in (src / "scoreboard.md").read_text()
    plain = stage_book(layout, "smoke", log=None)
    assert "custom run" not in (plain / "00_a.ipynb").read_text()
    with pytest.raises(FileNotFoundError, match="no custom run 'smoke-custom-00000000'"):
        stage_book(layout, "smoke", run="smoke-custom-00000000", log=None)


@pytest.mark.slow
def test_runners_on_two_chapters_at_once_keep_both_cache_entries(tiny_book):
    import subprocess
    import sys

    layout = tiny_book(["00_a", "01_b"])
    cmd = [sys.executable, "-m", "bookkit", "--root", str(layout.root), "execute", "--chapter"]
    procs = [
        subprocess.Popen([*cmd, c], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for c in ("00_a", "01_b")
    ]  # two processes, as two terminals would run them
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sorted(read_cache(layout, "smoke")) == ["00_a", "01_b"]


def test_a_second_runner_on_the_same_chapter_is_refused(tiny_book):
    import fcntl

    layout = tiny_book()
    lock = layout.executed_dir("smoke") / ".cache" / "00_a.lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "a+") as fh:
        fh.write("pid 12345, since now\n")
        fh.flush()
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ChapterExecutionError, match="being executed by another runner .pid 12345"):
            execute_chapter(layout, "00_a", "smoke", log=None)


@pytest.mark.parametrize("content", ["[1, 2]", '{"key": 5}', '"text"', "{not json", '{"key": "k"}'])
def test_a_malformed_cache_entry_is_reported_and_ignored(tiny_book, content):
    layout = tiny_book()
    folder = layout.executed_dir("smoke") / ".cache"
    folder.mkdir(parents=True)
    (folder / "00_a.json").write_text(content)
    with pytest.warns(UserWarning, match="cache entry .*00_a.json"):
        assert read_cache(layout, "smoke") == {}
    with pytest.warns(UserWarning):
        assert chapter_status(layout, "smoke")[0]["state"] == "never run"


@pytest.mark.slow
def test_a_long_cell_sends_a_heartbeat_to_the_log_file(tiny_book):
    layout = tiny_book()
    lines: list[str] = []
    run = execute_chapter(layout, "00_a", "smoke", overrides={"sleep": "4"}, log=lines.append, heartbeat_s=1.0)
    log_file = run.executed_path.with_suffix(".log")
    text = log_file.read_text()
    assert "code cell 4/5 started: import time" in text
    assert "code cell 4/5 running for" in text and "00_a: finished in" in text
    assert any("running for" in line for line in lines) and any("tail -f" in line for line in lines)


# --- building (runs jupyter-book) ----------------------------------------------------------------


def test_staging_uses_executed_copies_placeholders_and_a_scoreboard(tiny_book):
    layout = tiny_book(["00_a", "01_b"])
    executed = layout.executed_notebook("smoke", "00_a")
    executed.parent.mkdir(parents=True)
    executed.write_text(layout.notebook("00_a").read_text())
    layout.results_dir.mkdir()
    layout.results_file("00_a").write_text(
        json.dumps(
            {
                "chapter": "00_a",
                "profile": "smoke",
                "seed": 0,
                "device": "cpu",
                "metrics": {"acc": 0.6},
                "published": {},
            }
        )
    )
    notes: list[str] = []
    src = stage_book(layout, "smoke", log=notes.append)
    assert (src / "00_a.ipynb").exists() and (src / "index.md").exists() and (src / "_toc.yml").exists()
    assert "has not been executed in the smoke profile" in (src / "01_b.md").read_text()
    assert any("01_b has not been executed" in n for n in notes)
    scoreboard = (src / "scoreboard.md").read_text()
    assert "Tiny chapter 00_a" in scoreboard and "Tiny chapter 01_b" in scoreboard and "0.6" in scoreboard
    assert not (src / "params").exists()


@pytest.mark.slow
def test_a_sphinx_warning_fails_the_build_and_keeps_the_previous_html(tiny_book):
    layout = tiny_book(["00_a"])
    (layout.build_dir / "html").mkdir(parents=True)
    (layout.build_dir / "html" / "index.html").write_text("previous build")
    (layout.book_dir / "index.md").write_text("# Tiny book\n\nA link to {doc}`a page that does not exist <nowhere>`.\n")
    with pytest.raises(BookBuildError, match="nowhere"):
        build_book(layout, "smoke", log=None)
    assert (layout.build_dir / "html" / "index.html").read_text() == "previous build"


@pytest.mark.slow
def test_a_hung_cell_times_out_naming_the_cell(tiny_book):
    layout = tiny_book()
    with pytest.raises(ChapterExecutionError, match=r"failed in cell 4 \(first line: 'import time'\)") as info:
        execute_chapter(layout, "00_a", "smoke", overrides={"sleep": 5}, cell_timeout=1, log=None)
    assert "Timeout" in info.value.error


def test_a_local_mathjax_is_bundled_outside_static_paths_and_configured(tiny_book, tmp_path, monkeypatch):
    layout = tiny_book()
    es5 = tmp_path / "mathjax-es5"
    (es5 / "output" / "chtml" / "fonts" / "woff-v2").mkdir(parents=True)
    (es5 / "tex-mml-chtml.js").write_text("/* MathJax */")
    (es5 / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").write_bytes(b"font")
    monkeypatch.setenv("DCCA_MATHJAX_DIR", str(es5))
    src = stage_book(layout, "smoke", log=None)
    import yaml

    config = yaml.safe_load((src / "_config.yml").read_text())["sphinx"]["config"]
    # Copied to the output's root, outside html_static_path: jupyter-book would add every .js found
    # there to each page, and MathJax loaded twice fails ("Cannot set property Package").
    assert config["mathjax_path"] == "../mathjax/tex-mml-chtml.js"  # relative to _static/
    assert config["html_extra_path"] == ["_mathjax"] and "html_static_path" not in config
    assert (
        src / "_mathjax" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff"
    ).exists()
    monkeypatch.setenv("DCCA_MATHJAX_DIR", str(tmp_path / "nowhere"))
    src = stage_book(layout, "smoke", log=None)
    if find_local_mathjax() is None:  # no django-static-mathjax installed either: the CDN default
        assert "mathjax_path" not in (src / "_config.yml").read_text()


def test_kernels_run_without_progress_bars_and_the_environment_is_restored(tiny_book, monkeypatch):
    # tqdm without ipywidgets writes each update as text into the executed notebook.
    import os

    from bookkit.execute import _kernel_environment

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    layout = tiny_book()
    with _kernel_environment(layout.results_dir, layout.build_dir / "progress.log"):
        assert os.environ["TQDM_DISABLE"] == "1" and os.environ["PYTHONHASHSEED"] == "0"
        import subprocess
        import sys

        # tqdm reads TQDM_* when it is imported, as a fresh kernel does
        probe = "from tqdm.auto import tqdm; print(tqdm(range(3)).disable)"
        assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "True"
    assert "TQDM_DISABLE" not in os.environ
