# One front door: the same verbs for a newcomer, CI and production.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: help install system-deps demo run test lint mutation bench fuzz clean-state portal airflow airflow-start airflow-stop airflow-status compose-check
SYSTEM_PACKAGES := chromium docker-compose

## Create .venv with the project and its test tools, at the versions of constraints.txt (the default).
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

## Debian packages some tests use (chromium, docker-compose), installed when missing and we are root.
## chromium opens the reports in a real browser, docker-compose validates docker-compose.yml; without
## apt-get as root, the tests that need them say so.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "Not installed (apt-get as root would add them):$$missing"; fi; \
	fi

## The whole test suite (CI calls this): the linter first, then pytest.
test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The provinces' portal on http://127.0.0.1:8090 (after `make demo`, its demo logins work).
portal: $(STAMP)
	$(BIN)/iga portal $(if $(PORT),--port $(PORT))

## Lint with ruff: the rules of [tool.ruff] in pyproject.toml (the code is never reformatted).
lint: $(STAMP)
	$(BIN)/ruff check .

## List the targets, one line each.
help:
	@awk '/^## /{ if (!doc) doc = substr($$0, 4); next } \
	     /^[a-z][a-z-]*:/{ if (doc) { split($$0, t, ":"); printf "  %-16s %s\n", t[1], doc } } { doc = "" }' $(MAKEFILE_LIST)

## Airflow standalone in the foreground on the embedded defaults; Ctrl-C stops every process.
## (UI, scheduler, DAG processor, triggerer: prints the UI address and where the admin password is.)
airflow: $(STAMP)
	$(BIN)/iga airflow run $(if $(PORT),--port $(PORT))

## The same in the background; `make airflow-stop` stops it (and the warehouse it started).
airflow-start: $(STAMP)
	$(BIN)/iga airflow start $(if $(PORT),--port $(PORT))

## Stop what `make airflow-start` started.
airflow-stop: $(STAMP)
	$(BIN)/iga airflow stop

## Whether the background Airflow runs and is healthy, with its address (exit 1 when not).
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

MUTATION_MODULES ?= etl.values etl.normalise etl.columnar
## Mutation testing of the value parsers, the normaliser and the column-wise normaliser (mutmut, from the
## dev extra), one module at a time from a clean mutants/ (mutmut keeps old verdicts otherwise);
## docs/mutation.md, README "Mutation scores".
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,dev]'
	rm -rf mutants
	for module in $(MUTATION_MODULES); do \
		$(BIN)/mutmut run --max-children 2 "$$module*" > /dev/null; echo "$$module:"; \
		$(BIN)/mutmut results --all true | grep "$$module\." | awk '{print $$NF}' | sort | uniq -c; done
	$(BIN)/mutmut results

## Benchmarks against the physical floor: bench/results.json and the README table.
bench: $(STAMP)
	$(BIN)/python -m bench.run

## The fuzz suite: 2,000 mutated files through the check path, each in a capped child
## (bench/fuzz_results.json and the README table). FUZZ_ARGS='--files 200 --seed 7' for another run.
fuzz: $(STAMP)
	$(BIN)/python -m bench.fuzz $(FUZZ_ARGS)
