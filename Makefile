# One front door: the same verbs for a newcomer, CI and production.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo run test bench clean-state

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $(STAMP)

## Generate the sample national dataset and run it through the real DAGs.
demo: $(STAMP)
	$(BIN)/iga demo

## Process whatever is new in the landing folder.
run: $(STAMP)
	$(BIN)/iga run

## The whole test suite (CI calls this).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Remove the local state folder (.iga): embedded warehouse, Airflow metadata, outbox.
clean-state: $(STAMP)
	-$(BIN)/iga db stop
	rm -rf .iga

## Benchmarks against the physical floor: bench/results.json and the README table.
bench: $(STAMP)
	$(BIN)/python -m bench.run
