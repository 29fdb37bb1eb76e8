# Two commands for a fresh machine: `make run` (the embedded server with the example
# AInimals and the client page) and `make test` (lint, types, the whole suite). Each creates
# the virtual environment and installs what it needs on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

CHECKOV := .venv-checkov/bin/checkov

.PHONY: run test lint infra-check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned to the CPU build in the extra; see README.
	$(PY) -m pip install --quiet -e ".[test,torch,gcp]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m ainimal_zookeeper.server --client --port $(PORT)

lint: $(STAMP)
	$(PY) -m ruff check src tests examples bench functions worker
	$(PY) -m ruff format --check src tests examples bench functions worker
	$(PY) -m mypy

# checkov (the Terraform static analyser) pins many packages of its own: it gets its own venv.
$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet checkov

infra-check: $(CHECKOV)
	$(CHECKOV) -d infra/terraform --quiet --compact --skip-download

test: lint infra-check
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .venv-checkov zookeeper-data .pytest_cache .mypy_cache .ruff_cache
