#!/usr/bin/env bash
# One periodic job for cron (deploy/crontab): `deploy/run-job.sh expire_orders`.
# Reads the same environment file as the systemd units, skips the run when the previous one is
# still going, sends the output to syslog, and on failure also prints it (cron mails what a job
# prints when MAILTO is set) and exits with the job's status.
#   LUFFY_ENV_FILE  default /etc/luffy/luffy.env
set -uo pipefail
job=${1:?usage: run-job.sh <manage.py command> [args...]}
shift
app=$(cd "$(dirname "$0")/.." && pwd)
env_file=${LUFFY_ENV_FILE:-/etc/luffy/luffy.env}

set -a
# shellcheck disable=SC1090
. "$env_file" || { echo "run-job: cannot read $env_file" >&2; exit 78; }
set +a
export LUFFY_IGNORE_DOTENV=1
cd "$app" || exit 1

lock=${TMPDIR:-/tmp}/luffy-$job.lock
output=$(flock -n "$lock" .venv/bin/python manage.py "$job" "$@" 2>&1)
status=$?
log() { command -v logger >/dev/null && logger -t "luffy-$job" "$@" || true; }
printf '%s\n' "$output" | while IFS= read -r line; do log -- "$line"; done
if [ "$status" -ne 0 ]; then
  log -p user.err -- "$job exited $status"
  printf '%s\n%s exited %s\n' "$output" "$job" "$status"
fi
exit "$status"
