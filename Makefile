# Two set-up commands on a fresh machine: `make run` and `make test`. Both bootstrap .venv.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
# `make run`'s install: pyproject's base dependencies only (no test, lint or AWS tooling).
RUN_STAMP := $(VENV)/.installed-run
# The SageMaker SDK and dbt-trino are optional extras: the tests need them, `make run` does not.
SAGEMAKER_STAMP := $(VENV)/.installed-sagemaker

export LAKE_ROOT ?= ./data/lake
export WAREHOUSE_PATH ?= ./data/warehouse.duckdb
export WATERMARK_DSN ?= sqlite:///./data/watermarks.sqlite
export DBT_PROFILES_DIR ?= $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# `make run`'s market: the offline sample unless the environment names another
# (MARKET_SOURCE=polygon with MASSIVE_API_KEY or POLYGON_API_KEY set).
export MARKET_SOURCE ?= sample

# The sample market's first session: `make run` lands its whole history once; later runs
# only fill sessions after the watermark (none, for the fixed sample).
SAMPLE_FROM := 2022-01-03
# The test lake and warehouse are kept apart from the user's.
TEST_ENV := LAKE_ROOT=./data/test/lake WAREHOUSE_PATH=./data/test/warehouse.duckdb \
	WATERMARK_DSN=sqlite:///./data/test/watermarks.sqlite

.PHONY: help install run package test lint pytest test-trino trino dbt-test docs bench bench-trino bench-ingestion clean

help:
	@echo "make run    condvest daily: land the sample, dbt build, train, predict (DuckDB, local lake)"
	@echo "make package  build/lambda.zip and build/ml-source.tar.gz for the AWS stack"
	@echo "make test   ruff, mypy, sqlfluff, pytest (a real Trino included) and dbt build on a test lake"
	@echo "make test-trino  the tests on a real Trino 476 alone (installs it into .cache/trino once)"
	@echo "make docs   generate and serve the dbt docs site"
	@echo "make bench  every benchmark at full size beside its peers, table to bench/results/"
	@echo "make bench-ingestion  the ingestion benchmark alone (see bench/README.md)"

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"

# --inexact keeps uv itself (and, for RUN_STAMP, any extras installed before) in the venv.
$(RUN_STAMP): pyproject.toml uv.lock | $(BIN)/uv
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --inexact --compile-bytecode
	touch $@

$(STAMP): pyproject.toml uv.lock | $(BIN)/uv
	# --frozen installs exactly uv.lock.
	# --compile-bytecode: every condvest and dbt start imports dbt, pandas and scikit-learn;
	# without .pyc files (PYTHONDONTWRITEBYTECODE, read-only installs) that is 5 s a start.
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --inexact --compile-bytecode \
		--extra dev --extra athena
	touch $@ $(RUN_STAMP)

$(SAGEMAKER_STAMP): $(STAMP)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --inexact --compile-bytecode \
		--extra dev --extra athena --extra sagemaker --extra trino
	touch $@

install: $(STAMP)

# The daily state machine's steps, run locally (orchestration/statemachine/daily.asl.json):
# land the market (MARKET_SOURCE), dbt build, train (first run or training weekday),
# predict, vacuum. Quiet: a line per state and the report; dbt's log goes to a file
# (`condvest -v daily` streams it).
run: $(RUN_STAMP)
	$(BIN)/condvest daily
	@echo "warehouse: $(WAREHOUSE_PATH)  lake: $(LAKE_ROOT)"

# Lambda zip and the SageMaker jobs' source, for the CloudFormation stack (orchestration/).
package: $(STAMP)
	$(BIN)/python -m orchestration.package --out build

lint: $(SAGEMAKER_STAMP)  # mypy reads the SageMaker SDK's types too
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint models macros tests/dbt

# Trino 476 (the engine under Athena) into .cache/trino/: ~800 MB from Maven Central once,
# under a second when installed. The Trino tests start it themselves.
trino:
	scripts/trino/install.sh

# The tests on a real Trino alone (they also run in `make pytest`).
test-trino: $(SAGEMAKER_STAMP) trino
	$(BIN)/python -m pytest -m trino --durations=10

pytest: $(SAGEMAKER_STAMP) trino
	$(BIN)/python -m pytest --durations=20

dbt-test: $(STAMP)
	rm -rf ./data/test
	$(TEST_ENV) $(BIN)/condvest ingest --source sample --from $(SAMPLE_FROM)
	# Everything, the TA-Lib oracle and its comparison included, each test on its whole table.
	$(TEST_ENV) $(BIN)/dbt build --selector verify --vars '{test_scope: all}' --target-path target/test
	# Arrival freshness of the sample just landed. (Without --select the default selector
	# picks no source: nothing was checked.) The sample's sessions end 2025-12-31 and the
	# test lake has no predictions, so raw_ohlcv_sessions and ml.predictions are stale here.
	$(TEST_ENV) $(BIN)/dbt source freshness --target-path target/test \
		--select source:landing.raw_ohlcv source:landing.raw_tickers
	# Every model, seed, source and column documented (checked against the real catalog).
	$(TEST_ENV) $(BIN)/dbt docs generate --selector verify --target-path target/test
	$(BIN)/python tests/lint/check_dbt_docs.py target/test

test: lint pytest dbt-test

docs: $(STAMP)
	$(BIN)/dbt docs generate --selector verify
	$(BIN)/dbt docs serve --port 8080

# Full size (10,000 x 2,520, plus 1,000 and 3,000 symbols for the plot): run by hand.
bench: $(STAMP)
	$(BIN)/python -m bench --results

# dbt on Trino 476: full build and one daily run of 1,000 symbols x 10 years, bytes read.
bench-trino: $(SAGEMAKER_STAMP) trino
	$(BIN)/python -m bench.bench_trino --results

bench-ingestion: $(STAMP)
	$(BIN)/python -m bench.bench_ingestion --symbols 10000 --sessions 252

clean:
	rm -rf $(VENV) target logs data
