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
RUNNER_ARGS := --profile $(PROFILE) $(if $(CHAPTER),--chapter $(CHAPTER)) $(if $(FORCE),--force)

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

test: setup ## the whole suite, chapters included in the smoke profile
	$(PY) -m pytest -q

test-fast: setup ## the library tests only (no chapter runs)
	$(PY) -m pytest -q -m "not slow"

smoke: setup ## execute every chapter with papermill (smoke profile)
	$(PY) -m dcca_core.runner execute $(RUNNER_ARGS)

full: PROFILE = full
full: setup ## paper-scale run; results are kept in results/full/
	$(PY) -m dcca_core.runner execute $(RUNNER_ARGS) --keep-full-results

book: setup ## execute the chapters, then build the HTML book in _build/html
	$(PY) -m dcca_core.runner execute $(RUNNER_ARGS)
	$(PY) -m dcca_core.runner build --profile $(PROFILE)

test-book: book ## checks on the built book (pages, figures, scoreboard, browser render)
	$(PY) -m pytest -q tests/book_checks

bench: setup ## speed against the reference implementations → bench/results.json
	$(PY) -m bench.run

serve: ## serve the built book on http://127.0.0.1:8000
	cd _build/html && $(abspath $(PY)) -m http.server 8000 --bind 127.0.0.1

pdf: book ## the whole book as one PDF in _build/pdf/book.pdf
	$(PY) -m dcca_core.runner pdf

clean:
	rm -rf _build .pytest_cache results/*.json checkpoints
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
