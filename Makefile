# Two commands for a fresh machine: `make run` (the embedded server with the example
# AInimals and the client page) and `make test` (lint, types, the whole suite). Each creates
# the virtual environment and installs what it needs on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

CHECKOV := .venv-checkov/bin/checkov

# The web client (client/web, Vite + TypeScript + Preact) builds into the Python package.
# npm ci runs when the lockfile changes, the build when a source changes: otherwise both are skipped.
NPM ?= npm
WEB := client/web
# The service worker is written last by the build (and is not in git): its date says when the client was built.
CLIENT_BUILT := src/ainimal_zookeeper/client/static/sw.js
WEB_MODULES := $(WEB)/node_modules/.package-lock.json
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json
HAVE_NPM := $(shell command -v $(NPM) 2>/dev/null)

.PHONY: run test lint infra-check bench clean client client-test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned to the CPU build in the extra; see README.
	$(PY) -m pip install --quiet -e ".[test,torch,gcp,onnx,keras,litert,lightning,sb3,acme]"
	touch $(STAMP)

$(WEB_MODULES): $(WEB)/package.json $(WEB)/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "error: the web client needs Node.js 20.19+ with npm (not found)"; exit 1; }
	cd $(WEB) && $(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

$(CLIENT_BUILT): $(WEB_MODULES) $(WEB_SOURCES)
	cd $(WEB) && $(NPM) run --silent build

# `make run` serves the API even without Node.js (the page then says how to build the client);
# `make test` needs it.
ifeq ($(HAVE_NPM),)
client:
	@echo "note: npm not found: the web client is not built (install Node.js 20.19+, then make client)"
else
client: $(CLIENT_BUILT)
endif

# Type checks (strict TypeScript) and the vitest component tests.
client-test: $(WEB_MODULES)
	cd $(WEB) && $(NPM) run --silent check

run: $(STAMP) client
	$(PY) -m ainimal_zookeeper.server --client --port $(PORT)

lint: $(STAMP)
	$(PY) -m ruff check src tests examples bench functions worker
	$(PY) -m ruff format --check src tests examples bench functions worker
	$(PY) -m mypy
	# the dependency rule (layers, adapters chosen in bootstrap): .importlinter
	$(VENV)/bin/lint-imports

# checkov (the Terraform static analyser) pins many packages of its own: it gets its own venv.
$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet checkov

infra-check: $(CHECKOV)
	$(CHECKOV) -d infra/terraform --quiet --compact --skip-download

test: lint infra-check client-test $(CLIENT_BUILT)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .venv-checkov zookeeper-data .pytest_cache .mypy_cache .ruff_cache $(WEB)/node_modules
