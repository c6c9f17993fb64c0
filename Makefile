# make demo: set up, train a reward model on the synthetic world, score and evaluate with it; make test: the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test test-all lint bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/rewardkit train --config configs/train.yaml
	$(BIN)/rewardkit data synth --n 500 --seed 1 --output runs/demo/sample.jsonl
	$(BIN)/rewardkit score --config configs/score.yaml
	$(BIN)/rewardkit eval --config configs/eval.yaml
	$(BIN)/python examples/plain_transformers.py runs/demo/model

test: setup
	$(BIN)/python -m pytest -q

test-all: setup
	$(BIN)/python -m pytest -q -m ""

lint: setup
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/stats_stream.py --n 1000000
