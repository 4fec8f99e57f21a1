# Set-up and everyday commands. On a fresh Debian machine these are enough:
#   make demo   install what is missing, then run the product demo
#   make test   install what is missing, then run the whole test suite
# Extra pytest arguments: make test PYTEST_ARGS='-x -k signup'

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTEST_ARGS ?=
# Test processes (pytest-xdist); each runs whole test files with databases, a queue and
# a worker of its own. TEST_PROCESSES=0 runs everything in one process.
TEST_PROCESSES ?= 2
LINT_PATHS := contests oauth web workers tests

# Every benchmark in bench/, in this order; one that this checkout does not have is
# named and skipped.
BENCHMARKS := draw pages close_draw landing beacon entrants watching

.PHONY: help demo test lint bench clean

help:
	@echo "make demo    run the demo (installs dependencies, starts Redis if needed)"
	@echo "make test    run the whole test suite (PYTEST_ARGS='...' to pass pytest options)"
	@echo "make lint    ruff check, ruff format --check, mypy"
	@echo "make bench   run every benchmark in bench/ (minutes; figures and ratios)"
	@echo "make clean   remove .venv, .tools and caches"

demo:
	@scripts/bootstrap.sh
	@scripts/ensure-redis.sh
	@exec .venv/bin/gymkana demo

# ensure-postgres.sh prints the URL to test against, or nothing when the
# tests are to run on SQLite only; an empty answer must leave the variable
# unset, not empty. pytest's exit status is the recipe's.
test:
	@scripts/bootstrap.sh
	@scripts/ensure-redis.sh
	@scripts/ensure-chromium.sh
	@scripts/ensure-axe.sh
	@pg_url="$$(scripts/ensure-postgres.sh)"; \
	if [[ -n $$pg_url ]]; then export TEST_POSTGRES_URL="$$pg_url"; else unset TEST_POSTGRES_URL; fi; \
	exec .venv/bin/pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

# Runs every check even after one fails, then fails if any did.
lint:
	@scripts/bootstrap.sh
	@status=0; \
	.venv/bin/ruff check . || status=1; \
	.venv/bin/ruff format --check . || status=1; \
	.venv/bin/mypy $(LINT_PATHS) || status=1; \
	exit $$status

# The benchmarks make their own databases on the PostgreSQL server that the tests use
# (BENCH_POSTGRES_URL, when set, names another). All run even after one fails; then the
# recipe fails.
bench:
	@scripts/bootstrap.sh
	@scripts/ensure-redis.sh
	@pg_url="$$(scripts/ensure-postgres.sh)"; \
	if [[ -n $$pg_url && -z $${BENCH_POSTGRES_URL:-} ]]; then export BENCH_POSTGRES_URL="$${pg_url%/*}/postgres"; fi; \
	status=0; \
	for name in $(BENCHMARKS); do \
	  if [[ ! -f bench/$$name.py ]]; then echo "== bench/$$name.py: not in this checkout, skipped"; continue; fi; \
	  echo "== bench/$$name.py"; \
	  .venv/bin/python -m bench.$$name || { status=1; echo "== bench/$$name.py failed"; }; \
	done; \
	exit $$status

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache test-results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
