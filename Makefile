# Guanxi — `make demo` runs it with demo data on SQLite; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
DEMO_CUSTOMERS ?= 2000
DEMO_SEED ?= 1
PORT ?= 8000

# A Python >= 3.12 that actually runs: PATH first, then pyenv's installs.
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 python3; do \
  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: demo test test-unit test-e2e bench assets messages install check-python clean

check-python:
	@if [ -z "$(PYTHON)" ]; then echo "Guanxi needs Python 3.12 or newer (python3.13, python3.12 or pyenv). Install one and retry." >&2; exit 1; fi

$(BIN)/.installed: pyproject.toml | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

install: $(BIN)/.installed assets

assets: $(BIN)/.installed
	@bash scripts/build-assets.sh

demo: install
	GUANXI_HOME=$${GUANXI_HOME:-var} $(BIN)/guanxi migrate --no-input -v0
	GUANXI_HOME=$${GUANXI_HOME:-var} $(BIN)/guanxi demo --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED) --if-empty --login
	GUANXI_HOME=$${GUANXI_HOME:-var} $(BIN)/guanxi serve --port $(PORT)

# Unit, API and database tests in parallel, then the browser tests serially.
test: install
	@bash scripts/ensure-browser.sh
	$(BIN)/python -m pytest -n 2 -m "not e2e" -p no:cacheprovider
	$(BIN)/python -m pytest -m e2e -p no:cacheprovider

bench: install
	$(BIN)/python bench/run.py

messages: $(BIN)/.installed
	cd src/guanxi && ../../$(BIN)/guanxi makemessages -l zh_Hans -l en --no-obsolete && ../../$(BIN)/guanxi compilemessages

clean:
	rm -rf $(VENV) var node_modules src/guanxi/web/static/vendor
