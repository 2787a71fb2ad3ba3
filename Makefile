# Aftercare: `make run` starts the system on embedded defaults, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench fuzz migrate clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The benchmark's peers (bench/peers/) come with the test tools: the suite runs a small
# benchmark, peers included. The image installs neither (deploy/Dockerfile).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/aftercare run

migrate: $(STAMP)
	$(BIN)/aftercare migrate

lint: $(STAMP)
	$(BIN)/ruff check src services tests bench fuzz
	$(BIN)/ruff format --check src services tests bench fuzz

typecheck: $(STAMP)
	$(BIN)/mypy src/aftercare services/system/aftercare_system services/ticket/aftercare_ticket services/sla-watcher/aftercare_sla services/notifier/aftercare_notifier services/reporting/aftercare_reporting tests bench fuzz

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m bench

fuzz: $(STAMP)
	$(BIN)/python -m fuzz

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
