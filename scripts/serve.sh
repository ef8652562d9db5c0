#!/usr/bin/env bash
# `make serve`: the shop as production runs it, on this machine: DEBUG off, static files
# collected and served by WhiteNoise, the deployment checks, gunicorn with gunicorn.conf.py on
# 127.0.0.1:$PORT. No TLS here, so the HTTPS redirect is off; everything else is production's.
# The secret key: DJANGO_SECRET_KEY from the environment or .env if set, otherwise a throwaway
# key generated once into .tmp/serve-secret-key (never used anywhere else, not in git).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# What .env says, unless the environment already says otherwise (as settings.py reads it).
if [ -f .env ]; then
  set -a
  # shellcheck disable=SC1091
  . <(grep -E '^[A-Z_][A-Z0-9_]*=' .env | while IFS='=' read -r k v; do
        [ -z "${!k+x}" ] && printf '%s=%q\n' "$k" "$v"; done)
  set +a
fi
export DJANGO_DEBUG=false
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
  mkdir -p .tmp
  [ -s .tmp/serve-secret-key ] || {
    umask 077; $PY -c 'import secrets; print(secrets.token_urlsafe(50))' > .tmp/serve-secret-key; }
  DJANGO_SECRET_KEY=$(cat .tmp/serve-secret-key)
  export DJANGO_SECRET_KEY
  echo "==> DJANGO_SECRET_KEY not set: using the throwaway key in .tmp/serve-secret-key"
fi
export DJANGO_ALLOWED_HOSTS=${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}
export DJANGO_SECURE_SSL_REDIRECT=${SERVE_SSL_REDIRECT:-false}
# No nginx in front here: Django hands out local media itself (production: nginx or Qiniu).
export SERVE_MEDIA=${SERVE_MEDIA:-true}
export PORT=${PORT:-8000}

$PY manage.py migrate --noinput -v0
[[ "${CACHE_URL:-db://}" == db://* ]] && $PY manage.py createcachetable
$PY manage.py collectstatic --noinput -v0
# The same start-up checks a deployment gets. Errors stop here; warnings are printed (the ones
# about HTTPS are expected on plain http://127.0.0.1).
$PY manage.py check --deploy --fail-level ERROR
echo "==> serving on http://127.0.0.1:$PORT/ (debug off; health: /health/ and /health/ready/)"
exec .venv/bin/gunicorn -c gunicorn.conf.py
