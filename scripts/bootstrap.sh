#!/usr/bin/env bash
# Prepare a fresh Debian/Ubuntu machine for this project: the system packages mysqlclient builds
# against, a virtualenv in .venv, the pinned Python requirements, Node and the built storefront
# (web/dist). Safe to run again: it only does what is missing. Needs root or sudo the first time
# (for apt-get). `--browser` adds Chromium and a Chinese font for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  # Installs the named Debian packages that are not installed yet.
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

if [ "${1:-}" = "--mariadb" ]; then
  # Mroonga: the full-text index of SEARCH_BACKEND=mroonga (same version as the server).
  apt_install mariadb-server mariadb-client mariadb-plugin-mroonga tzdata
  exit 0
fi

# `make test-redis` and the two-node drill: a throwaway Redis and nginx in front of two nodes.
if [ "${1:-}" = "--redis" ]; then
  command -v redis-server >/dev/null || apt_install redis-server redis-tools
  exit 0
fi
if [ "${1:-}" = "--nginx" ]; then
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx
  exit 0
fi

# `make bench`: the load generator and the plotting library, on top of the normal setup.
if [ "${1:-}" = "--bench" ]; then
  apt_install wrk
  [ -x .venv/bin/python ] || "$0"
  stamp=.venv/.requirements-bench.sha
  want=$(sha256sum requirements-bench.txt | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> installing benchmark requirements"
    .venv/bin/python -m pip install -q -r requirements-bench.txt
    echo "$want" > "$stamp"
  fi
  exit 0
fi

# `make messages` and the catalogue tests (tests/test_locale.py): makemessages runs xgettext.
if [ "${1:-}" = "--gettext" ]; then
  command -v xgettext >/dev/null || apt_install gettext
  exit 0
fi

# `make test`: the browser tests drive Debian's Chromium (Playwright cannot download browsers
# here); the font draws the Chinese pages in screenshots.
if [ "${1:-}" = "--browser" ]; then
  [ -x /usr/bin/chromium ] || apt_install chromium
  apt_install fonts-wqy-zenhei
  exit 0
fi

# mysqlclient has no Linux wheels: it compiles against the MariaDB client library.
if ! pkg-config --exists mysqlclient 2>/dev/null && ! pkg-config --exists libmariadb 2>/dev/null; then
  apt_install pkg-config default-libmysqlclient-dev gcc
fi
command -v gcc >/dev/null || apt_install gcc
"$PYTHON" -c "import venv, ensurepip" 2>/dev/null || apt_install python3-venv

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the lock changed since the last install. requirements-dev.lock holds every
# package, transitive ones included, at one version with its hashes (scripts/lock-requirements.sh
# makes it from the pins in requirements*.txt): pip refuses anything else.
stamp=.venv/.requirements.sha
want=$(sha256sum requirements-dev.lock | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing Python requirements (requirements-dev.lock)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q --require-hashes -r requirements-dev.lock
  echo "$want" > "$stamp"
fi

# --- The storefront (web/) ----------------------------------------------------------------------
# Built here, not committed. Vite 6 needs Node 18.19+ (Debian 12's apt gives 18.19; newer is fine).
node_ok() {
  command -v node >/dev/null && command -v npm >/dev/null && node -e '
    const [major, minor] = process.versions.node.split(".").map(Number);
    process.exit(major > 18 || (major === 18 && minor >= 19) ? 0 : 1)'
}
if ! node_ok; then
  apt_install nodejs npm
  node_ok || {
    echo "!! web/ needs Node.js 18.19 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
    echo "   Install a newer nodejs package (e.g. from NodeSource) and run make again." >&2
    exit 1
  }
fi

# npm ci when the lock file changed; a build when anything the bundle is made of changed.
stamp=web/node_modules/.luffy-lock.sha
want=$(sha256sum web/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing web/ packages (npm ci)"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
stamp=web/dist/.luffy-build.sha
want=$(find web/src web/public web/scripts web/index.html web/vite.config.js web/package.json web/package-lock.json \
  -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ ! -f web/dist/index.html ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> building the storefront (web/dist)"
  (cd web && npm run build --silent >/dev/null)
  echo "$want" > "$stamp"
fi
