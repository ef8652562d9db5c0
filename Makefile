# One command to run the demo, one to run the whole suite. See README.md.
SHELL := /bin/bash
PY := .venv/bin/python
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: setup run test test-web test-sqlite test-mariadb test-redis lint format clean bench bench-dashboard bench-search bench-web serve

setup:
	@scripts/bootstrap.sh

# Demo server on the embedded defaults: SQLite, local media, no keys. Debug is on for this target
# only (.env.example keeps it off); `make run DJANGO_DEBUG=false` or an exported value wins.
run: export DJANGO_DEBUG ?= true
# Links in API bodies and the local cashier's addresses are built on SITE_URL: the port served.
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: setup
	@[ -f .env ] || { cp .env.example .env; echo "==> created .env from .env.example"; }
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	$(PY) manage.py load_demo
	@echo "==> the shop: http://127.0.0.1:$(PORT)/  (admin: /admin/, API docs: /api/docs/)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Production-like on this machine: DEBUG off, collectstatic, check --deploy, gunicorn with
# gunicorn.conf.py on 127.0.0.1:$(PORT). See scripts/serve.sh (secret key) and docs/deploying.md.
serve: setup
	@PORT=$(PORT) scripts/serve.sh

# Lint, the storefront's unit tests, then the whole suite on SQLite (with the browser tests in
# Chromium), the cache and throttle tests on Redis, then the suite again on a throwaway
# MariaDB on loopback (without the browser tests, with the two-node drill).
test: setup lint test-web test-sqlite test-redis test-mariadb

test-web:
	@scripts/bootstrap.sh --browser
	@echo "==> storefront unit tests (vitest)"
	cd web && npm test --silent

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DJANGO_SETTINGS_MODULE=luffy_api.settings_test $(PY) manage.py makemigrations --check --dry-run

test-sqlite:
	@scripts/bootstrap.sh --gettext
	@echo "==> test suite on SQLite"
	env -u DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)

# The shared cache on a throwaway Redis (127.0.0.1:$REDIS_PORT): cache, throttle and page-cache tests.
REDIS_TESTS := tests/deploy/test_redis_cache.py tests/utils/test_shared_cache_down.py \
  tests/user/test_login.py tests/user/test_sms.py tests/user/test_admin_lockout.py \
  tests/user/test_mobile_check.py tests/user/test_logout.py tests/user/test_password.py \
  tests/course/test_page_cache.py tests/promotion/test_flash_redis.py
test-redis:
	@echo "==> cache and throttle tests on Redis"
	scripts/redis.sh start
	env -u DATABASE_URL TEST_CACHE_URL=$$(scripts/redis.sh url) $(PY) -m pytest $(REDIS_TESTS); \
	  status=$$?; scripts/redis.sh stop; exit $$status

test-mariadb:
	@echo "==> test suite on MariaDB (with the two-node drill: Redis, two gunicorn nodes, nginx)"
	@scripts/bootstrap.sh --gettext
	@scripts/bootstrap.sh --nginx
	@scripts/bootstrap.sh --redis
	scripts/mariadb.sh start
	DATABASE_URL=$$(scripts/mariadb.sh url) TEST_SEARCH_BACKEND=mroonga \
	  $(PY) -m pytest -m "not browser" $(PYTEST_ARGS); \
	  status=$$?; scripts/mariadb.sh stop; exit $$status

# Load benchmark: throwaway MariaDB (127.0.0.1:3309), gunicorn, wrk and a mixed-traffic client;
# 1k and 20k courses (about 7 minutes) plus search at 1M courses, under 20 minutes in all
# (BENCH_SIZES=small for one size). Writes bench/results/results.md, results.json and
# latency.png (see docs/benchmark.md).
bench: setup
	@scripts/bootstrap.sh --bench
	$(PY) -m bench.run

# The admin's sales dashboard on 1M generated orders (throwaway MariaDB on 127.0.0.1:3310):
# query times and their EXPLAIN plans (bench/dashboard.py). About a minute.
bench-dashboard: setup
	MARIADB_PORT=3310 scripts/mariadb.sh start
	DATABASE_URL=$$(MARIADB_PORT=3310 scripts/mariadb.sh url) $(PY) -m bench.dashboard; \
	  status=$$?; MARIADB_PORT=3310 scripts/mariadb.sh stop; exit $$status

# Re-extract the English catalogue (locale/en) from our sources and compile every catalogue;
# commit the .po and .mo files. See docs/development.md (Translations).
.PHONY: messages
messages: setup
	@scripts/bootstrap.sh --gettext
	DJANGO_SETTINGS_MODULE=luffy_api.settings_test $(PY) manage.py messages

# Search at 1,000,000 courses (throwaway MariaDB on 127.0.0.1:3323): p50/p99 of the configured
# index against the LIKE scan (bench/search_scale.py). A few minutes.
bench-search: setup
	@scripts/bootstrap.sh --mariadb
	$(PY) -m bench.search_scale

# The storefront on an emulated phone: FCP and LCP of home, a list and a course detail on Fast 3G
# with a 4x slower CPU, and the home page's JS + CSS as sent (bench/web.py). About two minutes.
bench-web: setup
	@scripts/bootstrap.sh --browser
	$(PY) -m bench.web

format:
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	scripts/mariadb.sh stop
	scripts/redis.sh stop
	MARIADB_PORT=3309 scripts/mariadb.sh stop
	MARIADB_PORT=3323 scripts/mariadb.sh stop
	rm -rf .venv .tmp .pytest_cache .ruff_cache staticfiles web/node_modules web/dist tests/web/artifacts
