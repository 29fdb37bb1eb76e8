# Two commands for a fresh machine: `make run` (the embedded server with the example
# AInimals and the client page) and `make test` (lint, types, the whole suite). Each creates
# the virtual environment and installs what it needs on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

.PHONY: run test lint bench clean

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

test: lint
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) zookeeper-data .pytest_cache .mypy_cache .ruff_cache
