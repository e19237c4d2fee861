# The verbs a person types. Every target sets up its own virtualenv first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE ?= 1000000

export FLYWHEEL_DATA_DIR ?= $(CURDIR)/data
export FLYWHEEL_LANDING_DIR ?= $(CURDIR)/landing
export DAGSTER_HOME ?= $(FLYWHEEL_DATA_DIR)/dagster_home
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: help setup setup-spark demo run ui test lint format docs bench clean
.DEFAULT_GOAL := help

help:  ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | sed 's/\$$\$$/\$$/g' | expand -t 20

# The Spark extra (about 470 MB) only where Spark runs: the tests and FLYWHEEL_ENGINE=spark.
SPARK_STAMP := $(VENV)/.installed-spark
ENGINE_SETUP := $(if $(filter spark,$(FLYWHEEL_ENGINE)),setup-spark,setup)

setup: $(STAMP)  ## own virtualenv with the pinned dependencies (no Spark)

setup-spark: $(SPARK_STAMP)  ## the same plus the Spark extra (dbt-spark, pyspark)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(SPARK_STAMP): $(STAMP)
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $@

demo: setup  ## generate demo landing data and run the whole pipeline through Dagster
	$(BIN)/python -m orchestration.cli demo

run: $(ENGINE_SETUP)  ## run the pipeline on $$FLYWHEEL_LANDING_DIR
	$(BIN)/python -m orchestration.cli run

ui: setup  ## open the Dagster UI on http://127.0.0.1:3000
	$(BIN)/python -m orchestration.cli prepare-home
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

test: setup-spark  ## the test suite (real DuckDB, dbt, Dagster, GX; Spark too)
	$(BIN)/python -m pytest

lint: setup  ## ruff lint and format check
	$(BIN)/ruff check orchestration tests benchmarks
	$(BIN)/ruff format --check orchestration tests benchmarks

format: setup  ## ruff format and fixes
	$(BIN)/ruff format orchestration tests benchmarks
	$(BIN)/ruff check --fix orchestration tests benchmarks

docs: setup  ## dbt docs site, offline, one HTML file: data/dbt_docs/static_index.html
	$(BIN)/python -m orchestration.cli docs

bench: setup  ## benchmarks at SCALE orders (default 1,000,000); results in benchmarks/results
	$(BIN)/python -m benchmarks.run --scale $(SCALE) $(if $(STAGES),--stages $(STAGES)) $(if $(MEMORY_LIMITS),--memory-limits $(MEMORY_LIMITS))

clean:  ## remove data, landing and dbt build output
	rm -rf data landing dbt_project/target dbt_project/logs
