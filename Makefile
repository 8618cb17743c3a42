# Store billing — common tasks. `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help install lock run serve migrate demo test test-pg test-explore test-sqlite lint format check bench bench-compare bench-reports bench-scale cluster-check clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# requirements-dev.txt is a full lock (runtime + tools, every transitive package pinned with hashes),
# so nothing is resolved at install time and a new release upstream cannot change what gets installed.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed  ## create .venv and install the locked development requirements

# Re-compile both locks from requirements.in and requirements-dev.in. Existing pins are kept unless
# LOCK_ARGS says otherwise: `make lock LOCK_ARGS=--upgrade` or `LOCK_ARGS="--upgrade-package ruff"`.
# The locks keep the extras a package is wanted with (`fonttools[woff]==…`, not --strip-extras): with
# only `fonttools==…` pinned, a fresh venv's pip met WeasyPrint's `fonttools[woff]>=4` as unpinned, took
# the newest release upstream for it and stopped the install in --require-hashes mode.
# It needs only pip-tools, not an up-to-date install, so it runs right after a merge of the .in files.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(LOCK_ARGS)
lock: | $(BIN)/python  ## re-compile requirements.txt and requirements-dev.txt (hashed) from the .in files
	test -x $(BIN)/pip-compile || $(BIN)/pip install --quiet "pip-tools>=7.4,<8"
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

migrate: install  ## apply migrations (SQLite by default; DATABASE_URL picks another database)
	$(BIN)/python manage.py migrate --noinput

demo: migrate  ## load the demo catalogue, drawer float, demo users and a month of demo sales (idempotent)
	$(BIN)/python manage.py seed_demo --sales

run: demo  ## install, migrate, load demo data, serve on 127.0.0.1:8000 with the invoice worker beside it
	@echo "Serving on http://$(HOST):$(PORT)/ with the invoice-email worker; Ctrl+C stops both."
	{ $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/python manage.py runserver $(HOST):$(PORT); }

# Property tests are deterministic here (the same examples every run; billing_project/core/testing/properties.py).
test: install  ## run the whole test suite (SQLite by default; set DATABASE_URL for PostgreSQL)
	HYPOTHESIS_PROFILE=deterministic $(BIN)/pytest $(PYTEST_ARGS)

# The whole suite on PostgreSQL, where the production SQL runs (the bill's statements and locks, the race
# tests), in a throwaway database named for this run alone (billing_testpg_<pid>): pytest-django creates
# test_<name> and drops it, and an interrupted run's leftovers are dropped on the way out.
# PG_URL names the server (default postgres://postgres@127.0.0.1:5432).
test-pg: install  ## the whole suite on a throwaway PostgreSQL database of its own (PG_URL names the server)
	$(BIN)/python -m billing_project.core.testing.throwaway_pg $(PYTEST_ARGS)

# The property tests alone, with random seeds and at least 500 examples each, remembering failures in
# .hypothesis/. Run it before resolving anything that touches money; pin each counterexample with @example.
test-explore: install  ## the property tests with random seeds and 500+ examples each (pin failures with @example)
	HYPOTHESIS_PROFILE=explore $(BIN)/pytest -m property --hypothesis-show-statistics $(PYTEST_ARGS)

lint: install  ## ruff, mypy, the import contracts (apps in layers, no cycles), migration check and Django's system checks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-logo
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check

format: install  ## format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install  ## load benchmark on PostgreSQL (see bench/README.md)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-compare: install  ## two commits side by side, A-B-B-A: spread C=8 bills/s and app CPU per bill (BEFORE=<rev> [AFTER=HEAD])
	$(BIN)/python bench/compare.py $(BEFORE) $(or $(AFTER),HEAD) $(COMPARE_ARGS)

bench-reports: install  ## sales report at 1M bills on PostgreSQL (bench/report_bench.py; REPORT_BENCH_ARGS=--keep)
	$(BIN)/python bench/report_bench.py $(REPORT_BENCH_ARGS)

bench-scale: install  ## a chain's scale (issue 30): 5M bills, 50k products, 20 stores built with SQL, every screen timed against its budget (BENCH_SCALE_ARGS="--keep", "--reuse DB", "--bills N")
	$(BIN)/python bench/scale.py $(BENCH_SCALE_ARGS)

cluster-check: install  ## scale-out rehearsal: HAProxy, 2 app nodes, PgBouncer, 2 workers, faults, audits (PostgreSQL; installs haproxy/pgbouncer)
	$(BIN)/python bench/cluster_check.py $(CLUSTER_ARGS)

clean:  ## remove the virtualenv, the SQLite database and caches
	rm -rf $(VENV) billing.db billing.db-* .pytest_cache .ruff_cache .mypy_cache .import_linter_cache test-artifacts
