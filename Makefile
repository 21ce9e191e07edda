# Argmap: `make run` serves the seeded map on SQLite; `make test` runs the whole suite.
# Both set up .venv first. DATABASE_URL=postgres://... points either at PostgreSQL.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

# The first Python >= 3.12 found: python3.13, python3.12, then pyenv's and the system's copies.
PYTHON_CANDIDATES := python3.13 python3.12 \
	$(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/3.13*/bin/python3.13) \
	$(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/3.12*/bin/python3.12) \
	/usr/local/bin/python3.13 /usr/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.12 python3
BASE_PYTHON ?= $(shell for p in $(PYTHON_CANDIDATES); do \
	if "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	command -v "$$p" || echo "$$p"; break; fi; done)

.PHONY: run test bench lint format check-deploy migrate seed venv clean help

help:
	@echo "make run           serve the seeded map at http://$(HOST):$(PORT)/ (SQLite unless DATABASE_URL)"
	@echo "make test          run the whole test suite (SQLite unless DATABASE_URL)"
	@echo "make bench         measure reading and live updates against their floors (bench/)"
	@echo "make lint          ruff check + ruff format --check"
	@echo "make check-deploy  Django's deployment checks under production settings"

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(BASE_PYTHON)" ]; then \
		echo "Argmap needs Python 3.12 or newer (3.13 preferred); none was found."; \
		echo "Install python3.13 (e.g. 'pyenv install 3.13' or your system's python3.13 package)"; \
		echo "or run: make BASE_PYTHON=/path/to/python3.13 $(MAKECMDGOALS)"; \
		exit 1; \
	fi
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
		echo "Replacing $(VENV): it was built with a Python older than 3.12."; rm -rf $(VENV); fi
	@[ -x $(PY) ] || { echo "Creating $(VENV) with $(BASE_PYTHON)"; "$(BASE_PYTHON)" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@$(PY) -c 'import django, sys; assert django.VERSION[:2] == (6, 1), django.__version__; print("Django", django.__version__, "on Python", sys.version.split()[0])'
	@touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --no-input -v 0

seed: migrate
	$(PY) manage.py seed

run: seed
	@$(PY) manage.py demo_admin
	@echo "Serving http://$(HOST):$(PORT)/ (Ctrl-C stops; the data stays in var/)"
	$(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --lifespan off

test: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: venv
	$(PY) bench/run.py
	$(PY) bench/live.py

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-deploy: venv
	DJANGO_SETTINGS_MODULE=config.production \
	SECRET_KEY="$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')}" \
	ALLOWED_HOSTS="$${ALLOWED_HOSTS:-argmap.example.org}" \
	$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var/test-argmap-*.sqlite3* .pytest_cache .ruff_cache
