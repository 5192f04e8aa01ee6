# topicnmf developer tasks. `make` alone runs the tests and the linter.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# compat: a plain path entry, so setuptools prints no warning about editable installs
EDITABLE := -e . --config-settings editable_mode=compat
BASE   := $(VENV)/.installed-base
TOOLS  := $(VENV)/.installed-test

.PHONY: all install test lint format demo bench bench-scale clean

all: test lint

$(BASE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) $(EDITABLE)
	touch $(BASE)

$(TOOLS): $(BASE)
	$(PIP) -e '.[test,browser,dask]' --config-settings editable_mode=compat
	touch $(TOOLS)

install: $(BASE)

test: $(TOOLS)
	$(BIN)/topicnmf --help > /dev/null
	$(BIN)/python -m pytest -q

lint: $(TOOLS)
	$(BIN)/ruff check topicnmf tests bench
	$(BIN)/ruff format --check topicnmf tests bench

format: $(TOOLS)
	$(BIN)/ruff format topicnmf tests bench
	$(BIN)/ruff check --fix topicnmf tests bench

demo: $(BASE)
	$(BIN)/topicnmf fit sample_corpora/hobbies -k 4 -m demo-model.npz --format table
	printf 'We planted tomatoes and basil in the raised bed\nThe telescope showed the rings of Saturn\n' \
	  | $(BIN)/topicnmf assign -m demo-model.npz - --top-topics 2 --format table
	$(BIN)/topicnmf report -m demo-model.npz sample_corpora/hobbies -o demo-report.html

bench: $(TOOLS)
	$(BIN)/python bench/run_all.py

# planted corpora of 10k, 100k and 1M documents, against gensim (the bench extra) too
bench-scale: $(TOOLS)
	$(PIP) -e '.[bench]' --config-settings editable_mode=compat
	$(BIN)/python bench/bench_scale.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache demo-model.npz demo-report.html
