# The two commands that matter: `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test venv install install-dev migrate demo lint typecheck messages stack bench clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -q -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: embedded mode (SQLite, Celery eager, console e-mail/SMS), demo data, http://$(HOST):$(PORT)
## PUBLIC_BASE_URL (SMS links, receipts, QR codes) follows HOST and PORT unless set in the environment:
## `make run PORT=8123` links to http://127.0.0.1:8123.
RUN_BASE_URL = $${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}
run: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} PUBLIC_BASE_URL=$(RUN_BASE_URL) $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-1} PUBLIC_BASE_URL=$(RUN_BASE_URL) $(PY) manage.py runserver $(HOST):$(PORT)

## make test: the whole suite (PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set), one pytest-xdist
## worker per core (TEST_WORKERS=1 runs it in one process; each worker has its own test database and Redis db).
TEST_WORKERS ?= auto
test: install-dev
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## make lint: ruff (lint + format check) and the import contracts of .importlinter (docs/architecture.md)
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=$(CURDIR) $(VENV)/bin/lint-imports

## make typecheck: mypy over services, selectors, the ticket state machine and the core (files in pyproject.toml)
typecheck: install-dev
	DEBUG=1 $(VENV)/bin/mypy

## make messages: extract wrapped strings into locale/zh_Hans/.../django.po, compile django.mo, show what is left to
## translate (English is the source language: no catalog). Translate, run it again, commit the .po AND the .mo (docs/i18n.md).
MESSAGES_IGNORE := --ignore=$(VENV) --ignore=bench --ignore=tests --ignore=staticfiles --ignore=node_modules --ignore=test-artifacts
messages: install-dev
	cd $(CURDIR) && DEBUG=1 $(PY) manage.py makemessages -l zh_Hans --no-obsolete $(MESSAGES_IGNORE)
	cd $(CURDIR) && DEBUG=1 $(PY) manage.py compilemessages -l zh_Hans --ignore=$(VENV)
	@msgfmt --statistics -o /dev/null locale/zh_Hans/LC_MESSAGES/django.po

## make stack: production-like on one machine (gunicorn + worker + beat) against PostgreSQL and Redis
## (DATABASE_URL and REDIS_URL from the environment or .env; SECRET_KEY generated per run unless set)
stack: install-dev
	@[ -n "$$DATABASE_URL$$REDIS_URL" ] || grep -qs '^REDIS_URL=' .env || { echo "Set DATABASE_URL and REDIS_URL (see docs/jobs.md)"; exit 1; }
	export SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')} \
	  SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 PORT=$(PORT); \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py collectstatic --noinput -v 0 && \
	$(PY) manage.py setup_schedules && \
	$(VENV)/bin/honcho start -f Procfile -p $(PORT)

## make bench: every benchmark in bench/ (PostgreSQL + Redis; see bench/run_all.sh for the knobs)
bench: install-dev
	bench/run_all.sh

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
