# make demo: set up, train a reward model on the synthetic world, score and evaluate with it; make test: the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup setup-dev demo test test-all lint bench

# setup: the package and what the main job needs; setup-dev adds the server, Ray, TRL and the
# test and lint tools (the demo does not wait for those).
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	touch $@

setup-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/rewardkit train --config configs/train.yaml
	$(BIN)/rewardkit data synth --n 500 --seed 1 --output runs/demo/sample.jsonl
	$(BIN)/rewardkit score --config configs/score.yaml
	$(BIN)/rewardkit eval --config configs/eval.yaml
	$(BIN)/python examples/plain_transformers.py runs/demo/model

test: setup-dev
	$(BIN)/python -m pytest -q

test-all: setup-dev
	$(BIN)/python -m pytest -q -m ""

lint: setup-dev
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy

bench: setup-dev
	$(BIN)/python bench/stats_stream.py --n 1000000
