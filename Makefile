# Every target bootstraps its own virtualenv from the pinned lock file, so a fresh clone needs only
# python3.11 and make. uv lives in .tools/ (outside the project venv, which `uv sync` keeps exact).
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-sqlite test-postgres fuzz lint format typecheck bench eval demo clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	UV_PYTHON=$(PYTHON) $(UV) sync --frozen --quiet
	touch $@

# What the server needs to run, without the dev group (pytest, mypy, ruff, hypothesis: 112 of 1,042 MB).
# --inexact: a .venv that has the dev group already keeps it (no reinstall when switching targets).
$(VENV)/.synced-run: $(UV) pyproject.toml uv.lock
	UV_PYTHON=$(PYTHON) $(UV) sync --frozen --no-dev --inexact --quiet
	touch $@

## Start the server on the embedded SQLite database with the demo company (created on first run).
run: $(VENV)/.synced-run
	$(BIN)/outlay db upgrade
	$(BIN)/outlay demo --if-missing
	$(BIN)/outlay serve --transport http --print-connect-help

## Run the whole suite on SQLite and on PostgreSQL, one worker per core (pytest-xdist; each worker makes
## its own uniquely named databases). PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
test: $(VENV)/.synced
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-sqlite: $(VENV)/.synced
	$(BIN)/pytest -n $(PYTEST_WORKERS) -k "not postgresql" $(PYTEST_ARGS)

test-postgres: $(VENV)/.synced
	$(BIN)/pytest -n $(PYTEST_WORKERS) -k "not sqlite" $(PYTEST_ARGS)

## The fuzz tests at length: 200 random examples per tool, client and backend (the suite draws 8, fixed).
fuzz: $(VENV)/.synced
	OUTLAY_FUZZ_EXAMPLES=$${OUTLAY_FUZZ_EXAMPLES:-200} $(BIN)/pytest tests/fuzz $(PYTEST_ARGS)

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.synced
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Every benchmark, results in bench/results/ (latest.md: the summary), the committed record of speed and
## memory targets; `outlay bench` alone writes to var/bench/. BENCH_ARGS=--quick for a short run.
bench: $(VENV)/.synced
	$(BIN)/outlay bench --results bench/results $(BENCH_ARGS)

## Every scenario with the scripted agent on SQLite and on PostgreSQL, each gated against its baseline.
EVAL_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
eval: $(VENV)/.synced
	$(BIN)/outlay eval run --quiet --baseline evals/baselines/conversations-scripted-sqlite.json
	$(BIN)/outlay eval run --quiet --postgres-url $(EVAL_POSTGRES_URL) \
		--baseline evals/baselines/conversations-scripted-postgresql.json

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
