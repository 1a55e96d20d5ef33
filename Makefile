# One front door: the same verbs for a newcomer, CI and production.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo run test bench clean-state airflow airflow-start airflow-stop airflow-status compose-check

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

## Airflow standalone (UI, scheduler, DAG processor, triggerer) on the embedded defaults, in the
## foreground: prints the UI address and where the admin password is; Ctrl-C stops every process.
airflow: $(STAMP)
	$(BIN)/iga airflow run $(if $(PORT),--port $(PORT))

## The same in the background; `make airflow-stop` stops it (and the warehouse it started).
airflow-start: $(STAMP)
	$(BIN)/iga airflow start $(if $(PORT),--port $(PORT))

airflow-stop: $(STAMP)
	$(BIN)/iga airflow stop

airflow-status: $(STAMP)
	$(BIN)/iga airflow status

## Validate the production compose file (Debian's docker-compose; no Docker engine needed).
compose-check:
	docker-compose --env-file .env.example config -q

## Remove the local state folder (.iga): embedded warehouse, Airflow metadata, outbox.
clean-state: $(STAMP)
	-$(BIN)/iga airflow stop
	-$(BIN)/iga db stop
	rm -rf .iga
