# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# Every process under honcho links to the web server: honcho gives each process its own PORT.
WEB_PORT ?= $(PORT)
SITE_URL ?= http://127.0.0.1:$(WEB_PORT)
export WEB_PORT SITE_URL

.PHONY: run demo-reset test lint install install-test benchmark clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Install, migrate, load the demo data (only into an empty database) and start web, worker and beat.
## A taken port is named in one line (and make fails) before anything starts; a banner follows the start-up
## output; Ctrl-C, or a SIGINT to make alone, stops everything (devtools/run.py says how).
run: install
	@$(PY) -m devtools.run check-port --port $(WEB_PORT)
	$(PY) -m config.prepare
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py load_demo --if-empty
	DEBUG=$${DEBUG:-1} $(PY) manage.py evidence_chain_backfill
	DEBUG=$${DEBUG:-1} $(PY) -m devtools.run start --port $(WEB_PORT) --parent $$PPID

## Start the demo again, dated from today: delete the development database, files, mail and queued tasks
## under var/ (keys are kept), then `make run`. Stop a running `make run` first.
demo-reset: install
	@$(PY) -m devtools.run check-port --port $(WEB_PORT)
	$(PY) -m devtools.run reset
	$(MAKE) run

## Install the test requirements too and run the whole suite on two processes (pytest-xdist; DATABASE_URL chooses the database).
test: install-test
	$(PY) -m pytest -n 2

## Lint, format check, types and the import architecture (settings in pyproject.toml). Runs every
## check even when an earlier one fails, and fails if any did.
lint: install-test
	@status=0; \
	echo "== ruff check"; $(VENV)/bin/ruff check . || status=1; \
	echo "== ruff format --check"; $(VENV)/bin/ruff format --check . || status=1; \
	echo "== mypy"; $(VENV)/bin/mypy . || status=1; \
	echo "== lint-imports"; $(VENV)/bin/lint-imports || status=1; \
	exit $$status

## Every self-contained benchmark, in throwaway databases (figures and method in docs/benchmarks.md).
benchmark: install-test
	$(PY) -m config.prepare
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py benchmark

clean:
	rm -rf $(VENV) var
