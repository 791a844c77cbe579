# dcca-book: two commands set everything up on a fresh machine.
#   make book   venv + install + smoke run of every chapter + HTML book in _build/html
#   make test   venv + install + the test suite (what .ci/run calls)
# Variables: PROFILE=smoke|full  CHAPTER=02_dec_mnist  FORCE=1

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PIP := $(PY) -m pip --quiet --disable-pip-version-check
PROFILE ?= smoke
CHAPTER ?=
FORCE ?=
# Recursive (=), so that a target-specific PROFILE (make full) reaches the runner.
RUNNER_ARGS = --profile $(PROFILE) $(if $(CHAPTER),--chapter $(CHAPTER)) $(if $(FORCE),--force)

.PHONY: setup system-deps test test-fast test-book smoke book full bench serve pdf clean

setup: $(STAMP) ## create .venv and install the pinned requirements (idempotent)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing requirements into $(VENV) (about 2-3 minutes the first time; log: $(VENV)/install.log)"
	@$(PIP) install -r requirements.txt > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@$(PIP) install --no-deps -e . >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@$(MAKE) --no-print-directory system-deps
	@touch $(STAMP)

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

test: setup ## the whole suite: library tests, every chapter (smoke, cached) and checks of the built book
	$(PY) -m pytest -q --durations=15

test-fast: setup ## the library tests only (no chapter runs, no book build)
	$(PY) -m pytest -q -m "not slow"

# Chapters run once and are cached in _build/executed/<profile>/: a chapter whose notebook, params,
# dcca_core sources and requirements are unchanged since its last successful run is skipped.
smoke: setup ## execute the chapters with papermill (smoke profile; CHAPTER=..., FORCE=1)
	$(PY) -m dcca_core.runner execute $(RUNNER_ARGS)

full: PROFILE = full
full: setup ## paper-scale run of the chapters (hours); results kept in results/full/, then the full HTML book
	$(PY) -m dcca_core.runner execute $(RUNNER_ARGS) --keep-full-results
	$(PY) -m dcca_core.runner build --profile full

book: setup ## execute the chapters (cached), then build the HTML book in _build/html (warnings are errors)
	$(PY) -m dcca_core.runner execute $(RUNNER_ARGS)
	$(PY) -m dcca_core.runner build --profile $(PROFILE)

test-book: setup ## just the checks of the built book (pages, figures, scoreboard, browser render, cache)
	$(PY) -m pytest -q tests/book_checks

bench: setup ## speed against the reference implementations → bench/results.json
	$(PY) -m bench.run

serve: ## serve the built book on http://127.0.0.1:8000
	@test -f _build/html/index.html || { echo "no book built yet: run make book first"; exit 1; }
	@echo "serving _build/html on http://127.0.0.1:8000 (Ctrl-C to stop)"
	cd _build/html && $(abspath $(PY)) -m http.server 8000 --bind 127.0.0.1

pdf: setup ## the whole book as one PDF in _build/pdf/book.pdf (single-page HTML printed by headless Chromium)
	$(PY) -m dcca_core.runner execute $(RUNNER_ARGS)
	$(PY) -m dcca_core.runner pdf --profile $(PROFILE)

clean:
	rm -rf _build .pytest_cache results/*.json checkpoints
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
