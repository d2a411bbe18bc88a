# The two commands that matter: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCAL := deploy/local
TEST_WORKERS ?= 2
# Each process reads the project's compiled modules, written once: with PYTHONDONTWRITEBYTECODE set (as many shells
# and images set it), every start of a service, in a test or after a crash, compiled the whole project again first.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test lint typecheck pytest bench infra-up infra-down up down rebuild schemas translations screenshots clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

## run: the platform on its embedded default (SQLite stores, local Kafka); Ctrl-C stops it
run: $(STAMP)
	$(LOCAL)/browser.sh assets
	$(PY) -m services.supervisor

## test: install what is missing, start PostgreSQL and Kafka, lint, type-check, run every test
test: $(STAMP)
	$(LOCAL)/postgres.sh install
	$(LOCAL)/kafka.sh install
	$(LOCAL)/kcat.sh install
	$(LOCAL)/dovecot.sh install
	$(LOCAL)/rt.sh install
	$(LOCAL)/tools.sh install
	$(LOCAL)/browser.sh install
	$(LOCAL)/with-infra.sh $(MAKE) --no-print-directory lint typecheck pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	deploy/prometheus/check.sh
	deploy/check.sh

typecheck: $(STAMP)
	$(VENV)/bin/mypy

## pytest: the tests in two workers, then those that stop the shared Kafka or PostgreSQL, alone
pytest: $(STAMP)
	$(VENV)/bin/pytest -p no:cacheprovider --durations=15 -n $(TEST_WORKERS) --dist worksteal -m "not serial"; \
	parallel=$$?; \
	$(VENV)/bin/pytest -p no:cacheprovider --durations=5 -m serial; \
	serial=$$?; \
	exit $$(( parallel != 0 ? parallel : serial ))

## bench: the benchmarks under bench/, figures into bench/results/
bench: $(STAMP)
	$(LOCAL)/with-infra.sh $(PY) -m bench

## infra-up: start the local (no-Docker) Kafka and PostgreSQL that `make test` uses
infra-up:
	$(LOCAL)/postgres.sh start
	$(LOCAL)/kafka.sh start

## infra-down: stop the local Kafka and PostgreSQL
infra-down:
	$(LOCAL)/kafka.sh stop
	$(LOCAL)/postgres.sh stop

## up: the whole stack in containers (docker-compose.yml: Kafka, PostgreSQL, the services, Prometheus, Grafana)
up:
	docker compose up -d --build

## down: stop and remove the containers (the volumes stay: `docker compose down -v` drops the data)
down:
	docker compose down

## rebuild: drop the analytics projections and rebuild them from intake's and SLA's event feeds (stop analytics first);
## like make run, it allows the development secrets unless SERVICEDESK_ALLOW_DEVELOPMENT_SECRETS says otherwise
rebuild: $(STAMP)
	SERVICEDESK_ALLOW_DEVELOPMENT_SECRETS=$${SERVICEDESK_ALLOW_DEVELOPMENT_SECRETS:-true} $(PY) -m services.analytics.main rebuild

schemas: $(STAMP)
	$(PY) -m schemas.export

## screenshots: the browser tests again, leaving a picture of each main page in docs/screenshots/
screenshots: $(STAMP)
	$(LOCAL)/browser.sh install
	SERVICEDESK_SCREENSHOTS=docs/screenshots $(LOCAL)/with-infra.sh $(VENV)/bin/pytest -p no:cacheprovider tests/browser

## translations: every visible string of the pages into the catalogues (then translate the new ones in ru)
translations: $(STAMP)
	cd services/web && ../../$(VENV)/bin/pybabel extract -F babel.cfg -k gettext_ -k _ --no-location --omit-header \
		-o translations/messages.pot . && ../../$(VENV)/bin/pybabel update -i translations/messages.pot \
		-d translations -l ru --no-fuzzy-matching --omit-header --ignore-obsolete

clean:
	rm -rf $(VENV) .local .mypy_cache .ruff_cache
