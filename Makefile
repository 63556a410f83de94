# frontdesk: the two commands are `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test test-dates lint types pytest package bench demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	QT_QPA_PLATFORM= $(BIN)/frontdesk --demo-if-empty $(ARGS)

test: $(STAMP) lint types pytest

lint: $(STAMP)
	$(BIN)/ruff check frontdesk tests benchmarks packaging scripts
	$(BIN)/ruff format --check frontdesk tests benchmarks packaging scripts

types: $(STAMP)
	$(BIN)/mypy frontdesk

pytest: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

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
	rm -rf build dist $(VENV) .mypy_cache .ruff_cache
