# Two entry points for a fresh machine with Python 3.11+ and make:
#   make demo   sets up .venv and scores the sample data
#   make test   sets up .venv and runs lint + the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format clean schema bench

$(BIN)/chs: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BIN)/chs

demo: $(BIN)/chs
	@mkdir -p out
	$(BIN)/chs check schemes/saas.yaml --data sample_data/customers.csv
	$(BIN)/chs score sample_data/customers.csv --scheme schemes/saas.yaml -o out/customers_scored.parquet

test: $(BIN)/chs
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

format: $(BIN)/chs
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(BIN)/chs
	$(BIN)/chs schema > schemes/chs-scheme.schema.json

bench: $(BIN)/chs
	$(BIN)/python bench/run.py --rows 10000000 --runs 3 --previous

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache build *.egg-info
