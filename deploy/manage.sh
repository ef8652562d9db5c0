#!/usr/bin/env bash
# manage.py with the production environment, for an operator at a shell:
#   sudo -u luffy /srv/luffy/deploy/manage.sh migrate
# Reads the same file as the systemd units (LUFFY_ENV_FILE, default /etc/luffy/luffy.env).
set -euo pipefail
app=$(cd "$(dirname "$0")/.." && pwd)
set -a
# shellcheck disable=SC1090
. "${LUFFY_ENV_FILE:-/etc/luffy/luffy.env}"
set +a
export LUFFY_IGNORE_DOTENV=1
cd "$app"
exec .venv/bin/python manage.py "$@"
