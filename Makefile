# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Editable installs as a path in a .pth file: no import hook to load at every command's start-up
# (setuptools' default one imports pathlib and importlib.util, ~20 ms per command)
EDITABLE := --config-settings editable_mode=compat -e

.PHONY: demo test lint docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -qq $(EDITABLE) '.[demo]'
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -qq $(EDITABLE) '.[test,demo]'
	touch $@

demo: $(VENV)/.demo-installed
	$(BIN)/eksaudit demo

lint: $(VENV)/.test-installed
	$(BIN)/ruff check eksaudit tests benchmarks

test: lint
	$(BIN)/pytest -q -n 2

# Generated files: docs/fields.md (from the field registry), docs/cli.md and completions/ (from the app)
docs: $(VENV)/.test-installed
	$(BIN)/python -m eksaudit.docsgen

# The peers the benchmarks compare against: jq (apt), and the `bench` extra (duckdb, jaq)
$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -qq $(EDITABLE) '.[test,demo,bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/filter_vs_jq.py
	$(BIN)/python benchmarks/rules_vs_jq.py
	$(BIN)/python benchmarks/fetch_vs_awscli.py
	$(BIN)/python benchmarks/vs_peers.py
	$(BIN)/python benchmarks/streams.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
