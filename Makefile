# make demo: set up and run the main job on embedded defaults; make test: set up and run the tests.
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
	mkdir -p runs/demo
	$(BIN)/rewardkit data synth --n 2000 --seed 0 --output runs/demo/pairs.jsonl
	$(BIN)/rewardkit data validate runs/demo/pairs.jsonl --tokenizer minilm --max_length 256
	$(BIN)/rewardkit data stats runs/demo/pairs.jsonl --tokenizer minilm
	$(BIN)/rewardkit data split runs/demo/pairs.jsonl --output_dir runs/demo/split

test: setup
	$(BIN)/python -m pytest -q

test-all: setup
	$(BIN)/python -m pytest -q -m ""

lint: setup
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/stats_stream.py --n 1000000
