# frontdesk: the two commands are `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package, with its hashes, that tests, runs and ships: `make lock` after changing
# pyproject.toml's dependencies (docs/development.md).
LOCK := requirements.lock
ARGS ?=
# make test runs the suite in this many processes (pytest-xdist; 0 runs it in one): the tests wait
# on servers and subprocesses as much as they compute, so one more than a 2-core machine's cores
JOBS ?= 3
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test test-dates lint types pytest package bench demo clean lock audit

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@$(BIN)/python -m pip check || { echo "$(LOCK) does not match pyproject.toml: run make lock"; exit 1; }
	touch $(STAMP)

lock:
	$(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet pip-tools
	.lockenv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --extra dev --strip-extras \
	  --no-emit-index-url --no-emit-find-links -o $(LOCK) pyproject.toml

# the locked packages against the published vulnerability records (PyPI's advisory data)
audit: $(STAMP)
	$(BIN)/python scripts/audit_deps.py $(LOCK)

run: $(STAMP)
	QT_QPA_PLATFORM= $(BIN)/frontdesk --demo-if-empty $(ARGS)

test: $(STAMP) lint types pytest

lint: $(STAMP)
	$(BIN)/ruff check frontdesk tests benchmarks packaging scripts
	$(BIN)/ruff format --check frontdesk tests benchmarks packaging scripts

types: $(STAMP)
	$(BIN)/mypy frontdesk

pytest: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist worksteal $(ARGS)

# the date-sensitive tests at awkward moments (scripts/clock_matrix.py; ARGS="--all-tests" for all)
test-dates: $(STAMP)
	$(BIN)/python scripts/clock_matrix.py $(ARGS)

package: $(STAMP)
	$(BIN)/python packaging/build.py

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

demo: $(STAMP)
	$(BIN)/frontdesk demo $(ARGS)

clean:
	rm -rf build dist $(VENV) .lockenv .mypy_cache .ruff_cache
