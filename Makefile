# One front door: the same verbs for a newcomer, CI and production.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install system-deps demo run test bench clean-state portal airflow airflow-start airflow-stop airflow-status compose-check
SYSTEM_PACKAGES := chromium docker-compose

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

## Debian packages some tests use: chromium (reports opened in a real browser) and docker-compose
## (validates docker-compose.yml). Installed when missing and we are root with apt-get; otherwise
## the tests that need them say so.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "Not installed (apt-get as root would add them):$$missing"; fi; \
	fi

## The whole test suite (CI calls this).
test: $(STAMP) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The provinces' portal on http://127.0.0.1:8090 (after `make demo`, its demo logins work).
portal: $(STAMP)
	$(BIN)/iga portal $(if $(PORT),--port $(PORT))

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

## Benchmarks against the physical floor: bench/results.json and the README table.
bench: $(STAMP)
	$(BIN)/python -m bench.run
