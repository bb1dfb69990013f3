# Two entry points for a fresh machine with Python 3.11+ and make:
#   make demo   sets up .venv with chs alone and scores the sample data
#   make test   sets up .venv with chs and its dev and benchmark tools, runs lint + the whole test suite
# Each installs what it needs, once (a stamp file in .venv remembers it): the demo does
# not pull in pytest, pandas or DuckDB.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format clean schema bench profile report

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# chs and its runtime dependencies only
$(VENV)/.chs: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# chs with the test tools (pytest, hypothesis, ruff, jsonschema) and the benchmark's
# competitors (numpy, pandas, pyarrow, DuckDB), which a smoke test runs
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

demo: $(VENV)/.chs
	@mkdir -p out
	$(BIN)/chs check schemes/saas.yaml --data sample_data/customers.csv
	$(BIN)/chs score sample_data/customers.csv --scheme schemes/saas.yaml -o out/customers_scored.parquet

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(VENV)/.chs
	$(BIN)/chs schema > schemes/chs-scheme.schema.json

# the HTML report of the sample history (out/report.html) and its screenshot for the
# README (docs/report.png; needs Debian's chromium)
report: $(VENV)/.dev
	@mkdir -p out
	$(BIN)/chs report sample_data/history/as_of=2026-11-01/scores.parquet --html out/report.html \
		--history sample_data/history --outcomes sample_data/churn.csv --by segment,region \
		--title "Sample portfolio, November 2026"
	$(BIN)/python docs/screenshot.py out/report.html docs/report.png

bench: $(VENV)/.dev
	$(BIN)/python bench/run.py --rows 10000000 --runs 3 --previous --history-depths 1,6,24

# where a run's time goes, stage by stage, over the data `make bench` generated
profile: $(VENV)/.dev
	$(BIN)/python bench/profile.py bench/data/customers.csv --runs 3

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache build *.egg-info
