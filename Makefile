# topicnmf developer tasks. `make` alone runs the tests and the linter.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: all install test lint format demo bench clean

all: test lint

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: install
	$(BIN)/topicnmf --help > /dev/null
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check topicnmf tests bench
	$(BIN)/ruff format --check topicnmf tests bench

format: install
	$(BIN)/ruff format topicnmf tests bench
	$(BIN)/ruff check --fix topicnmf tests bench

demo: install
	$(BIN)/topicnmf fit sample_corpora/hobbies -k 4 -m demo-model.npz --format table
	printf 'We planted tomatoes and basil in the raised bed\nThe telescope showed the rings of Saturn\n' \
	  | $(BIN)/topicnmf assign -m demo-model.npz - --top-topics 2 --format table

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache demo-model.npz
