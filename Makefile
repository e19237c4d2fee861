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

.PHONY: help setup setup-dev setup-spark browser java demo run ui explore report metrics-query test test-heavy test-all test-fast lint format docs gx-docs bench clean
.DEFAULT_GOAL := help

help:  ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | sed 's/\$$\$$/\$$/g' | expand -t 20

# What runs the pipeline, then the developer tools (tests, lint, browser driver), then the
# Spark extra (about 470 MB) only where Spark runs: the tests and FLYWHEEL_ENGINE=spark.
DEV_STAMP := $(VENV)/.installed-dev
SPARK_STAMP := $(VENV)/.installed-spark
ENGINE_SETUP := $(if $(filter spark,$(FLYWHEEL_ENGINE)),setup-spark,setup)

setup: $(STAMP)  ## own virtualenv with the pinned dependencies (no Spark, no dev tools)

setup-dev: $(DEV_STAMP)  ## the same plus pytest, ruff, sqlfluff, playwright

setup-spark: $(SPARK_STAMP)  ## the same plus the Spark extra (dbt-spark, pyspark)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install -qq -e .
	touch $@

$(DEV_STAMP): $(STAMP)
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install -qq -e '.[dev]'
	touch $@

$(SPARK_STAMP): $(DEV_STAMP)
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install -qq -e '.[dev,spark]'
	touch $@

demo: setup  ## generate demo landing data and run the whole pipeline through Dagster
	$(BIN)/python -m orchestration.cli demo

run: $(ENGINE_SETUP)  ## run the pipeline on $$FLYWHEEL_LANDING_DIR
	$(BIN)/python -m orchestration.cli run

UI_PORT ?= 3000
EXPLORE_PORT ?= 8501
# Offline and local: no usage statistics, no file watcher, bound to 127.0.0.1 only.
STREAMLIT_FLAGS := --server.address 127.0.0.1 --server.headless true \
  --browser.gatherUsageStats false --server.fileWatcherType none --client.toolbarMode viewer
GX_DOCS_PORT ?= 8502

ui: setup  ## open the Dagster UI on http://127.0.0.1:3000 (UI_PORT=...)
	$(BIN)/python -m orchestration.cli prepare-home
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p $(UI_PORT)

EXPLORER_SNAPSHOT = $(or $(FLYWHEEL_EXPLORER_SNAPSHOT),$(FLYWHEEL_DATA_DIR)/published/flywheel.duckdb)

explore: setup  ## the explorer (tree, why, channels, CX, data status) on http://127.0.0.1:8501
	@test -f "$(EXPLORER_SNAPSHOT)" || { \
	  echo "No published snapshot at $(EXPLORER_SNAPSHOT): run make demo or make run first."; exit 1; }
	@echo "Explorer on http://127.0.0.1:$(EXPLORE_PORT) (reads $(EXPLORER_SNAPSHOT); Ctrl-C stops it)"
	$(BIN)/streamlit run explorer/app.py --server.port $(EXPLORE_PORT) $(STREAMLIT_FLAGS)

report: setup  ## write the monthly report of the last complete month (published/reports/)
	$(BIN)/python -m orchestration.cli report

# The semantic layer (docs/bi.md): MetricFlow on the published snapshot, read-only.
METRICS ?= revenue,gross_margin,contribution_margin
BY ?= metric_time__month
metrics-query: setup  ## MetricFlow on the published snapshot: METRICS=revenue,nps BY=metric_time__month,store (ARGS=--csv out.csv)
	$(BIN)/python -m orchestration.lib.semantic --metrics "$(METRICS)" --group-by "$(BY)" $(ARGS)

# The suite on TEST_WORKERS processes (pytest-xdist), each test module whole on one of them
# so its module fixtures (a pipeline run, a dbt build) are built once.
TEST_WORKERS ?= 2
PYTEST_PARALLEL = $(if $(filter-out 0 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadscope)

test: setup-dev browser  ## the test suite but the heavy runs (real DuckDB, dbt, Dagster, GX; pages in Chromium)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not heavy"

# The heavy runs (marker `heavy`): the project built on Spark, kill -9 in every phase of a
# run, two runs and hammering readers at once, a run under a low memory limit, the
# explanations on the demo's own 30,000 orders. CI runs them after make test.
# FLYWHEEL_REQUIRE_SPARK=1: a Spark test that cannot run stops the suite with the reason
# (tests/spark/conftest.py) instead of being skipped.
test-heavy: setup-spark browser java  ## the heavy runs only: Spark parity, kill -9, concurrency, low memory, the 30,000-order demo
	FLYWHEEL_REQUIRE_SPARK=1 $(BIN)/python -m pytest $(PYTEST_PARALLEL) -m heavy

test-all: test test-heavy  ## everything CI runs: make test, then make test-heavy

test-fast: setup-dev  ## the inner loop: unit tests and the dbt fixture builds, no pipeline runs (not slow)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow" tests/unit tests/dbt

# The tests open pages in a real headless browser: Debian's Chromium, never a browser
# a tool downloads itself. Installed once with apt (root), as on the CI machines.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser tests need Chromium: sudo apt-get install -y chromium"; exit 1; fi; }

# The Spark parity tests need Java 17 or later: Debian's headless JRE, installed once with
# apt as root (as on the CI machines), else named here.
java:
	@v=$$(java -version 2>&1 | sed -nE 's/.*version "(1\.)?([0-9]+).*/\2/p' | head -1); \
	if [ -z "$$v" ] || [ "$$v" -lt 17 ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	  else echo "The Spark tests need Java 17 or later (found: $${v:-none}): sudo apt-get install -y openjdk-17-jre-headless"; exit 1; fi; fi

# sqlfluff renders each model with dbt itself (the dbt templater): adapter.dispatch, the
# cross-db macros, vars and run_query give the SQL DuckDB runs, with nothing faked (the
# jinja templater fails on adapter.dispatch and would need a stand-in for half of dbt).
# Offline: dbt connects to an empty warehouse in a throwaway folder (no data is read,
# nothing is written to data/ or dbt_project/target), with a throwaway PII key.
SQLFLUFF = tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
  FLYWHEEL_DATA_DIR="$$tmp" FLYWHEEL_PII_KEY=lint-only DBT_TARGET_PATH="$$tmp/target" \
  DBT_LOG_PATH="$$tmp/logs" $(BIN)/sqlfluff
SQL_PATHS := dbt_project/models dbt_project/tests
LINT_PROCESSES ?= 2

lint: setup-dev  ## ruff lint and format check, sqlfluff on the dbt project
	$(BIN)/ruff check orchestration explorer tests benchmarks
	$(BIN)/ruff format --check orchestration explorer tests benchmarks
	$(SQLFLUFF) lint --processes $(LINT_PROCESSES) $(SQL_PATHS)

format: setup-dev  ## ruff format and fixes, sqlfluff fix
	$(BIN)/ruff format orchestration explorer tests benchmarks
	$(BIN)/ruff check --fix orchestration explorer tests benchmarks
	$(BIN)/python -m orchestration.lib.metric_registry
	$(BIN)/python -m orchestration.lib.settings
	$(SQLFLUFF) fix --processes $(LINT_PROCESSES) $(SQL_PATHS)

docs: setup  ## dbt docs site, offline, one HTML file: data/dbt_docs/static_index.html
	$(BIN)/python -m orchestration.cli docs

gx-docs: setup  ## serve the Great Expectations Data Docs on http://127.0.0.1:8502 (offline)
	@echo "Data Docs: http://127.0.0.1:$(GX_DOCS_PORT)/index.html (Ctrl-C stops)"
	$(BIN)/python -m http.server $(GX_DOCS_PORT) --bind 127.0.0.1 --directory $(FLYWHEEL_DATA_DIR)/gx_data_docs

bench: setup-dev browser  ## benchmarks at SCALE orders (default 1,000,000); results in benchmarks/results
	$(BIN)/python -m benchmarks.run --scale $(SCALE) $(if $(STAGES),--stages $(STAGES)) $(if $(MEMORY_LIMITS),--memory-limits $(MEMORY_LIMITS))

clean:  ## remove data, landing and dbt build output
	rm -rf data landing dbt_project/target dbt_project/logs
