#!/usr/bin/env bash
# manage.py with the production environment, for an operator at a shell:
#   sudo -u luffy /srv/luffy/deploy/manage.sh migrate
# Reads the same file as the systemd units (LUFFY_ENV_FILE, default /etc/luffy/luffy.env).
# The commands that change the schema (migrate, createcachetable, rebuild_search_index) connect
# with MIGRATE_DATABASE_URL when it is set: the migration user, which has DDL rights; the app
# and every other command use DATABASE_URL, a user without them (docs/deploying.md, section 3).
set -euo pipefail
app=$(cd "$(dirname "$0")/.." && pwd)
set -a
# shellcheck disable=SC1090
. "${LUFFY_ENV_FILE:-/etc/luffy/luffy.env}"
set +a
case "${1:-}" in
  migrate | createcachetable | rebuild_search_index)
    if [ -n "${MIGRATE_DATABASE_URL:-}" ]; then
      DATABASE_URL=$MIGRATE_DATABASE_URL
    fi
    ;;
esac
unset MIGRATE_DATABASE_URL
export LUFFY_IGNORE_DOTENV=1
cd "$app"
exec .venv/bin/python manage.py "$@"
