# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test install install-test migrate demo check-deploy benchmark clean

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
run: install
	$(PY) -m config.prepare
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py load_demo --if-empty
	@echo "Web: http://127.0.0.1:$(PORT)   Mail: var/mail/   Ctrl-C stops everything."
	DEBUG=$${DEBUG:-1} $(VENV)/bin/honcho -f Procfile.dev start

## Install the test requirements too and run the whole suite (DATABASE_URL chooses the database).
test: install-test
	$(PY) -m pytest

benchmark: install-test
	$(PY) manage.py benchmark

clean:
	rm -rf $(VENV) var
