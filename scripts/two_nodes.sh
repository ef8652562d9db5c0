#!/usr/bin/env bash
# The two-node drill on its own, with its figures: a throwaway MariaDB (127.0.0.1:$MARIADB_PORT,
# default 3308), then tests/deploy/test_two_nodes.py, which starts Redis, two gunicorn app nodes
# and nginx (deploy/nginx/luffy.conf) on loopback and prints what it measured.
# `make test` runs the same drill in its MariaDB pass. Installs nginx and Redis if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export MARIADB_PORT=${MARIADB_PORT:-3308}

scripts/bootstrap.sh
scripts/bootstrap.sh --nginx
scripts/bootstrap.sh --redis
scripts/mariadb.sh start
trap 'scripts/mariadb.sh stop' EXIT
DATABASE_URL=$(scripts/mariadb.sh url) .venv/bin/python -m pytest -p no:cacheprovider -s -q \
  -m two_nodes tests/deploy/test_two_nodes.py "$@" | grep -E "two-node drill|^E |passed|failed|rror"
