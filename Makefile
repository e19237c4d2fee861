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

.PHONY: setup demo run ui test lint format docs bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $@

demo: setup  ## generate demo landing data and run the whole pipeline through Dagster
	$(BIN)/python -m orchestration.cli demo

run: setup  ## run the pipeline on $$FLYWHEEL_LANDING_DIR
	$(BIN)/python -m orchestration.cli run

ui: setup  ## open the Dagster UI on http://127.0.0.1:3000
	$(BIN)/python -m orchestration.cli prepare-home
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check orchestration tests benchmarks
	$(BIN)/ruff format --check orchestration tests benchmarks

format: setup
	$(BIN)/ruff format orchestration tests benchmarks
	$(BIN)/ruff check --fix orchestration tests benchmarks

docs: setup  ## dbt docs, built offline into data/dbt_docs
	$(BIN)/python -m orchestration.cli docs

bench: setup
	$(BIN)/python -m benchmarks.run --scale $(SCALE) $(if $(STAGES),--stages $(STAGES)) $(if $(MEMORY_LIMITS),--memory-limits $(MEMORY_LIMITS))

clean:
	rm -rf data landing dbt_project/target dbt_project/logs
