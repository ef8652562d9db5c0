# One command to run the demo, one to run the whole suite. See README.md.
SHELL := /bin/bash
PY := .venv/bin/python
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: setup run test test-web test-sqlite test-mariadb lint format clean bench

setup:
	@scripts/bootstrap.sh

# Demo server on the embedded defaults: SQLite, local media, no keys.
run: setup
	@[ -f .env ] || { cp .env.example .env; echo "==> created .env from .env.example"; }
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	$(PY) manage.py load_demo
	@echo "==> the shop: http://127.0.0.1:$(PORT)/  (admin: /admin/, API docs: /api/docs/)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Lint, the storefront's unit tests, then the whole suite on SQLite (with the browser tests in
# Chromium), then again on a throwaway MariaDB on loopback (without the browser tests).
test: setup lint test-web test-sqlite test-mariadb

test-web:
	@scripts/bootstrap.sh --browser
	@echo "==> storefront unit tests (vitest)"
	cd web && npm test --silent

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DJANGO_SETTINGS_MODULE=luffy_api.settings_test $(PY) manage.py makemigrations --check --dry-run

test-sqlite:
	@echo "==> test suite on SQLite"
	env -u DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)

test-mariadb:
	@echo "==> test suite on MariaDB"
	scripts/mariadb.sh start
	DATABASE_URL=$$(scripts/mariadb.sh url) $(PY) -m pytest -m "not browser" $(PYTEST_ARGS); \
	  status=$$?; scripts/mariadb.sh stop; exit $$status

# Load benchmark: throwaway MariaDB (127.0.0.1:3309), gunicorn and wrk; about 10 minutes.
# Writes bench/results/results.md, results.json and latency.png (see bench/run.py).
bench: setup
	@scripts/bootstrap.sh --bench
	$(PY) -m bench.run

format:
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	scripts/mariadb.sh stop
	MARIADB_PORT=3309 scripts/mariadb.sh stop
	rm -rf .venv .tmp .pytest_cache .ruff_cache staticfiles web/node_modules web/dist tests/web/artifacts
