# dcca-book: two commands set everything up on a fresh machine.
#   make book   venv + install + Debian packages + smoke run of every chapter + HTML book in _build/html
#   make test   venv + install + the test suite (what .ci/run calls; installs no Debian package)
# Variables: PROFILE=smoke|full  CHAPTER=02_dec_mnist  FORCE=1
#   TORCH_INDEX=https://download.pytorch.org/whl/cpu   install torch from that index (here: the CPU
#              build, about 200 MB) instead of the default index (PyPI: the CUDA build on Linux, GBs)

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSTEM_STAMP := $(VENV)/.system-deps
PIP := $(PY) -m pip --quiet --disable-pip-version-check
PROFILE ?= smoke
CHAPTER ?=
FORCE ?=
# Every package but torch, pinned and hashed (pip --require-hashes); regenerate with `make lock`.
LOCK := requirements.lock
# torch is installed by its own pinned line from requirements.txt: its wheels differ per index (the
# CUDA build on PyPI, torch==X+cpu on PyTorch's CPU index), so no one set of hashes fits both.
TORCH_INDEX ?=
TORCH_REQ := $(shell grep -m1 -oE '^torch==[^[:space:];]+' requirements.txt)
# Recursive (=), so that a target-specific PROFILE (make full) reaches the runner.
RUNNER_ARGS = --profile $(PROFILE) $(if $(CHAPTER),--chapter $(CHAPTER)) $(if $(FORCE),--force)

.PHONY: setup system-deps lock lint format test test-fast test-book smoke book full bench serve pdf clean distclean

setup: $(STAMP) $(SYSTEM_STAMP) ## create .venv, install the locked requirements, and the Debian packages if missing (root)

# The Debian packages are looked at once after each (re)install of .venv, by `make setup` (and the
# targets that depend on it: book, smoke, full, pdf, bench), never by the test targets.
$(SYSTEM_STAMP): $(STAMP)
	@$(MAKE) --no-print-directory system-deps
	@touch $@

# The Python environment only: `make test` depends on this, never on the Debian packages.
$(STAMP): requirements.txt $(LOCK) pyproject.toml
	@test -n "$(TORCH_REQ)" || { echo "requirements.txt has no torch==<version> line"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing requirements into $(VENV) (about 2-3 minutes the first time; log: $(VENV)/install.log)"
	@$(PIP) install --require-hashes -r $(LOCK) > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@$(PIP) install $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_REQ)" >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@$(PIP) install --no-deps -e . >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

# Regenerate requirements.lock after editing requirements.txt (UPGRADE=1: newest allowed releases).
# pip-compile runs from a throwaway venv ($(LOCK_TOOLS)), never from .venv. Existing pins are kept
# unless requirements.txt needs otherwise; torch is left out (see above), and so are the CUDA
# libraries that only PyPI's torch build pulls in (nvidia-*, triton, cuda-*).
LOCK_TOOLS ?= /tmp/dcca-book-pip-tools
UPGRADE ?=
define LOCK_HEADER
# requirements.lock: every package `make setup` installs into .venv, pinned with the sha256 of every
# PyPI file of that version; installed with `pip install --require-hashes -r requirements.lock`.
# Regenerate it after editing requirements.txt with `make lock` (pip-tools 7.6.2 in a throwaway
# venv; `make lock UPGRADE=1` moves every pin to the newest allowed release). Do not edit by hand.
# Resolved for CPython 3.11 (environment.yml, CI) on Linux x86-64.
# Not in here: torch. `make setup` installs it next, by its pinned line in requirements.txt, from
# PyPI (the CUDA build on Linux; its nvidia-* and triton dependencies are pinned exactly by torch
# itself) or, with `make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu`, from that index
# (the +cpu build). The two are different files, so one set of hashes cannot cover both; torch's
# own Python dependencies (filelock, sympy, networkx, jinja2, fsspec, ...) are locked here.
endef
export LOCK_HEADER
lock: ## regenerate requirements.lock from requirements.txt (pip-compile --generate-hashes)
	@test -x $(LOCK_TOOLS)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_TOOLS) && \
	  $(LOCK_TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check pip-tools==7.6.2; }
	@if [ -f $(LOCK) ]; then cp $(LOCK) $(LOCK).tmp; else rm -f $(LOCK).tmp; fi
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile --quiet --generate-hashes --strip-extras \
	  --no-header --no-emit-index-url --no-emit-find-links --unsafe-package torch $(if $(UPGRADE),--upgrade) \
	  -o $(LOCK).tmp requirements.txt || { rm -f $(LOCK).tmp; exit 1; }
	@{ printf '%s\n\n' "$$LOCK_HEADER"; \
	   awk '/^[A-Za-z0-9]/ { skip = ($$0 ~ /^(nvidia-|triton==|cuda-)/) } /^# WARNING: The following packages were not pinned/ { exit } !skip' $(LOCK).tmp \
	   | sed -e :a -e '/^\n*$$/{$$d;N;ba' -e '}'; } > $(LOCK)
	@rm -f $(LOCK).tmp
	@echo "wrote $(LOCK): $$(grep -c '^[A-Za-z0-9]' $(LOCK)) packages"

# Debian packages the book uses: Fashion-MNIST (a second data set) and Chromium (PDF, browser check).
# Installed only when missing and when we may (root with apt-get); otherwise we say how.
system-deps:
	@need=""; \
	test -d /usr/share/datasets/fashion-mnist || need="$$need dataset-fashion-mnist"; \
	command -v chromium >/dev/null || need="$$need chromium"; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$need"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need) >/dev/null \
	      || echo "warning: apt-get install$$need failed; Fashion-MNIST will be downloaded, PDF/browser checks skipped"; \
	  else \
	    echo "note: missing$$need; install with: sudo apt-get install$$need"; \
	  fi; \
	fi

LINTED := dcca_core bookkit tests studies bench

lint: $(STAMP) ## ruff (lint rules and the format check) and a lenient mypy, configured in pyproject.toml
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy

format: $(STAMP) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix $(LINTED)
	$(VENV)/bin/ruff format $(LINTED)

test: $(STAMP) lint ## lint first, then the whole suite: library tests, every chapter (smoke, cached), the built book
	$(PY) -m pytest -q --durations=15

test-fast: $(STAMP) ## the tests that need no data set and no chapter run (a minute or two)
	$(PY) -m pytest -q -m "not slow and not data"

# Chapters run once and are cached in _build/executed/<profile>/: a chapter whose notebook, params,
# dcca_core sources and requirements are unchanged since its last successful run is skipped.
smoke: setup ## execute the chapters with papermill (smoke profile; CHAPTER=..., FORCE=1)
	$(PY) -m bookkit execute $(RUNNER_ARGS)

full: PROFILE = full
full: setup ## paper-scale run of the chapters (hours); results kept in results/full/, then the full HTML book
	$(PY) -m bookkit execute $(RUNNER_ARGS) --keep-full-results
	$(PY) -m bookkit build --profile full

# `make book`: the published book, from the committed paper-scale runs (results/full/<chapter>.ipynb);
# nothing is trained. A chapter with no committed execution shows its smoke run, which is executed
# (cached) first. `make book PROFILE=smoke` executes and builds the smoke book instead.
ifeq ($(origin PROFILE),command line)
book: setup ## the book of PROFILE: execute its chapters (cached), then build the HTML in _build/html
	$(PY) -m bookkit execute $(RUNNER_ARGS)
	$(PY) -m bookkit build --profile $(PROFILE)
else
book: setup ## the published book: the committed paper-scale runs (smoke runs where none is committed)
	$(PY) -m bookkit execute --profile smoke --missing-full $(if $(CHAPTER),--chapter $(CHAPTER)) $(if $(FORCE),--force)
	$(PY) -m bookkit build --profile full
endif

test-book: $(STAMP) ## just the checks of the built book (pages, figures, scoreboard, browser render, cache)
	$(PY) -m pytest -q tests/book_checks

FAISS := faiss-cpu==1.15.1
bench: setup ## speed against the reference implementations → bench/results.json (installs the bench extra, faiss-cpu)
	@$(PY) -c "import faiss" 2>/dev/null || { echo "installing the bench extra: $(FAISS)"; $(PIP) install "$(FAISS)"; }
	$(PY) -m bench.run

serve: ## serve the built book on http://127.0.0.1:8000
	@test -f _build/html/index.html || { echo "no book built yet: run make book first"; exit 1; }
	@echo "serving _build/html on http://127.0.0.1:8000 (Ctrl-C to stop)"
	cd _build/html && $(abspath $(PY)) -m http.server 8000 --bind 127.0.0.1

pdf: setup ## the whole book as one PDF in _build/pdf/book.pdf (single-page HTML printed by headless Chromium)
	$(PY) -m bookkit execute $(RUNNER_ARGS)
	$(PY) -m bookkit pdf --profile $(PROFILE)

clean:
	rm -rf _build .pytest_cache results/*.json checkpoints
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
