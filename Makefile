# labkit: `make lab` to explore, `make test` to check. Every target sets up .venv/ first.
#
#   make lab         set up, then serve JupyterLab on 127.0.0.1:$(LAB_PORT) at the tour
#   make test        set up, then run every test (notebooks and real-browser widget tests included)
#   make chromium    install Debian's chromium for the browser tests (apt-get, as root) if missing
#   make notebooks   run every notebook headless into build/notebooks/, compare records
#   make baselines   rewrite data/baselines/*.json from fresh runs (on purpose only)
#   make bench       run the benchmarks
#   make clean       remove build outputs and caches (not .venv/: `rm -rf .venv` for that)

SHELL := /bin/bash
.DEFAULT_GOAL := setup

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip -q
# Written after a complete install: a later `make` touches no pip unless pyproject.toml changed.
STAMP := $(VENV)/.labkit-stamp
BOOT_PYTHON := $(shell command -v python3.11 || command -v python3)

LAB_PORT ?= 8888
LAB_OPEN_BROWSER ?= 1
PYTEST_ARGS ?=

LAB_FLAGS := --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
	--ServerApp.root_dir=notebooks --LabApp.default_url=/lab/tree/00_tour.ipynb
ifeq ($(shell id -u),0)
LAB_FLAGS += --allow-root
endif
ifeq ($(LAB_OPEN_BROWSER),0)
LAB_FLAGS += --no-browser
endif

.PHONY: setup lab test chromium notebooks baselines bench clean

setup: $(STAMP)

# torch first, pinned: here that resolves to the ~190 MB CPU wheel on disk; another spec
# (or a bare `torch` pulled in by a dependency) can resolve to a multi-GB CUDA build.
# Elsewhere, install a CPU build of torch 2.13.0 into .venv first (README).
# rfc3987-syntax is uninstalled because it costs 1-2 s in every process that imports
# nbformat or papermill (jsonschema issue #1428); nothing labkit uses needs it.
$(STAMP): pyproject.toml
	test -x $(PY) || $(BOOT_PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0
	$(PIP) install -e ".[test]"
	$(PIP) uninstall -y rfc3987-syntax >/dev/null 2>&1 || true
	touch $@

lab: setup
	$(VENV)/bin/jupyter lab $(LAB_FLAGS)

test: setup chromium
	$(PY) -m pytest tests $(PYTEST_ARGS)

# tests/browser drive Debian's chromium through Playwright (the `playwright` pip package, in the
# test extra); never `playwright install`. Without root and without chromium this only says so,
# and the browser tests skip with the same advice.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian chromium for tests/browser (apt-get, ~40 s)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "NOTE: $(CHROMIUM) is missing and this is not root: tests/browser will skip."; \
		echo "      Install it with: sudo apt-get install -y chromium"; \
	fi

notebooks: setup
	$(PY) tools/run_notebooks.py

baselines: setup
	$(PY) tools/run_notebooks.py --baselines

# The REBOUND comparison needs the bench extra (rebound): installed here, not in setup.
bench: setup
	$(PY) -c "import rebound" 2>/dev/null || $(PIP) install -e ".[bench]"
	$(PY) benchmarks/run_all.py

clean:
	rm -rf build .pytest_cache
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) \
		-type d -print0 | xargs -0 -r rm -rf
