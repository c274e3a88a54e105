# labkit: `make lab` to explore, `make test` to check. Every target sets up .venv/ first.
#
#   make lab         set up, then serve JupyterLab on 127.0.0.1:$(LAB_PORT) at the tour
#   make test        set up, then run every test (notebooks and real-browser widget tests included),
#                    then the numerics-sensitive ones again for a generic x86-64 CPU (test-portable)
#   make test-portable  notebook records, rule claims, oracles and analysis as on a generic
#                    x86-64 CPU: Numba code without AVX/FMA (own cache dir), NumPy without AVX2/512
#   make lock        re-resolve requirements/*.txt and binder/requirements.txt (on purpose only)
#   make chromium    install Debian's chromium for the browser tests (apt-get, as root) if missing
#   make notebooks   run every notebook headless into build/notebooks/, compare records
#   make baselines   rewrite data/baselines/*.json from fresh runs (on purpose only)
#   make bench       run the benchmarks
#   make screenshots refresh docs/screenshots/<notebook>_<explorer>.png (1280x720, file browser open)
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
# Every core: pytest-xdist workers take the tests one by one. The real-browser tests run after
# the rest, in one process (one JupyterLab server, one chromium), when every Numba kernel has been
# compiled and cached: a kernel JupyterLab starts on a clean clone compiles nothing.
XDIST := -n auto

LAB_FLAGS := --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
	--ServerApp.root_dir=notebooks --LabApp.default_url=/lab/tree/00_tour.ipynb
ifeq ($(shell id -u),0)
LAB_FLAGS += --allow-root
endif
ifeq ($(LAB_OPEN_BROWSER),0)
LAB_FLAGS += --no-browser
endif

.PHONY: setup lab test test-host test-portable lock chromium notebooks baselines bench screenshots clean

setup: $(STAMP)

# The lock, exactly: requirements/dev.txt pins every package (runtime, test and bench extras;
# torch as its CPU build), so --no-deps installs that set and nothing else; Binder installs the
# same versions (binder/requirements.txt). Here torch's CPU wheel lies on disk; elsewhere pip
# needs PyTorch's CPU index for it (README, "More on set-up").
# rfc3987-syntax is left out of the lock and uninstalled from older venvs: it costs 1-2 s in
# every process that imports nbformat or papermill (jsonschema issue #1428).
$(STAMP): pyproject.toml requirements/dev.txt
	test -x $(PY) || $(BOOT_PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install --no-deps -r requirements/dev.txt
	$(PIP) install --no-deps -e .
	$(PIP) uninstall -y rfc3987-syntax >/dev/null 2>&1 || true
	touch $@

# Re-resolve the lock from pyproject.toml with uv (installed here on demand; not in the lock).
lock: setup
	$(PY) -m uv --version >/dev/null 2>&1 || $(PIP) install uv==0.13.9
	$(PY) tools/lock.py

lab: setup
	$(VENV)/bin/jupyter lab $(LAB_FLAGS)

test: test-host test-portable

test-host: setup chromium
	$(PY) -m pytest tests --ignore=tests/browser $(XDIST) $(PYTEST_ARGS)
	$(PY) -m pytest tests/browser $(PYTEST_ARGS)

# The same numbers from code generated for another CPU: Numba for a generic x86-64 (no AVX,
# no FMA: other vectorisation and rounding), with its own cache directory beside labkit's usual
# one; NumPy without its AVX2/AVX-512 loops (np.exp, np.log and np.power round differently
# there: a machine without AVX-512 gets those other last bits). torch, the oracle, keeps this
# machine's kernels: the oracle tests compare our numbers with one fixed reference (ATen's
# pre-AVX2 "default" kernels differ from its AVX2/AVX-512 ones by 1e-16..1e-11 over a 10-D
# Rosenbrock run: that is the oracle moving, not labkit). OpenBLAS's variables stay as the
# machine sets them.
GENERIC_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/labkit-generic
PORTABLE_ENV := NUMBA_CPU_NAME=generic LABKIT_CACHE_DIR=$(GENERIC_CACHE) \
	NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR"
PORTABLE_TESTS := tests/test_portable.py tests/test_notebooks.py tests/test_registry.py tests/test_oracles.py \
	tests/test_oracles_matrix.py tests/test_oracles_paper.py tests/test_analysis.py
test-portable: setup
	$(PORTABLE_ENV) $(PY) -m pytest $(PORTABLE_TESTS) -m "not mutation and not cpu_independent" $(XDIST) $(PYTEST_ARGS)

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

# The REBOUND comparison's rebound (the bench extra) is in the lock that setup installs.
bench: setup
	$(PY) benchmarks/run_all.py

# One PNG per explorer, as a teacher sees it at 1280x720 with the file browser open.
screenshots: setup chromium
	$(PY) tests/browser/screenshots.py

clean:
	rm -rf build .pytest_cache
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) \
		-type d -print0 | xargs -0 -r rm -rf
