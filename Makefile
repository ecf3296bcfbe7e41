# Quick start:  make demo   (runs examples/quickstart.py)   |   make test   (runs the test suite)
# Both create ./.venv and install what they need on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU wheel of torch 2.13.0; on a CUDA machine set e.g. TORCH_SPEC="torch==2.13.0" PIP_TORCH_ARGS="--index-url ..."
TORCH_SPEC ?= torch==2.13.0
PIP_TORCH_ARGS ?=
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)" $(PIP_TORCH_ARGS)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/quickstart.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_labels.py
	$(BIN)/python benchmarks/bench_round.py
	$(BIN)/python benchmarks/bench_env_step.py

benchmark: $(STAMP)
	$(BIN)/mimo-fl benchmark --preset quick

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
