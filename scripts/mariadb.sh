#!/usr/bin/env bash
# A throwaway MariaDB server for the test suite, on loopback only, with its data under .tmp/.
#   scripts/mariadb.sh start   installs MariaDB if missing, starts it, creates the `luffy` user
#   scripts/mariadb.sh stop    stops it and removes its data
# The server listens on 127.0.0.1:${MARIADB_PORT:-3307}; DATABASE_URL for it is printed by `url`.
# Each port has its own data directory (.tmp/mariadb for 3307, .tmp/mariadb-<port> otherwise), so
# the benchmark's server (make bench, port 3309) and the test suite's can run side by side.
# MARIADB_BUFFER_POOL sets the InnoDB buffer pool (default 256M; the benchmark uses more).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/throwaway.sh
. scripts/throwaway.sh

PORT=${MARIADB_PORT:-3307}
BUFFER_POOL=${MARIADB_BUFFER_POOL:-256M}
if [ "$PORT" = 3307 ]; then DIR=$PWD/.tmp/mariadb; else DIR=$PWD/.tmp/mariadb-$PORT; fi
SOCK=$DIR/mysqld.sock
PIDFILE=$DIR/mysqld.pid
MROONGA=/usr/lib/mysql/plugin/ha_mroonga.so

start() {
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || scripts/bootstrap.sh --mariadb
  export PATH=$PATH:/usr/sbin
  stop_quietly
  # Its own tmpdir: on-disk temporary tables (big sorts) must not share /tmp with anything that
  # cleans it; a vanished #sql-temptable file fails the query ("Error on delete of ...MAI").
  mkdir -p "$DIR/tmp"
  mariadb-install-db --no-defaults --datadir="$DIR/data" --auth-root-authentication-method=normal \
    --skip-test-db >"$DIR/install.log" 2>&1 || { cat "$DIR/install.log"; exit 1; }
  local user_opt=() plugin_opt=()
  [ "$(id -u)" -eq 0 ] && user_opt=(--user=root)
  # Mroonga (mariadb-plugin-mroonga) serves SEARCH_BACKEND=mroonga; without it search stays LIKE.
  [ -f "$MROONGA" ] || scripts/bootstrap.sh --mariadb || echo "no Mroonga: search stays LIKE"
  [ -f "$MROONGA" ] && plugin_opt=(--plugin-load-add=ha_mroonga.so)
  mariadbd --no-defaults "${user_opt[@]}" --datadir="$DIR/data" --socket="$SOCK" \
    --pid-file="$PIDFILE" --port="$PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --tmpdir="$DIR/tmp" \
    "${plugin_opt[@]}" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size="$BUFFER_POOL" --innodb-flush-log-at-trx-commit=2 \
    --max-connections=200 \
    --log-error="$DIR/error.log" &
  for _ in $(seq 1 60); do
    mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1 || {
    echo "MariaDB did not start; its log:"; cat "$DIR/error.log"; exit 1; }
  # Time zone tables: Django's date functions (admin date filters) need CONVERT_TZ to work.
  mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null |
    mariadb --no-defaults --socket="$SOCK" -uroot mysql
  mariadb --no-defaults --socket="$SOCK" -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'luffy'@'127.0.0.1' IDENTIFIED BY 'luffy';
-- WITH GRANT OPTION: tests/deploy/test_database_grants.py makes the app's DML-only user.
GRANT ALL PRIVILEGES ON *.* TO 'luffy'@'127.0.0.1' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS luffy CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
SQL
  # Groonga's own select for search counts (apps/course/search/groonga.py): an admin step on a
  # real server (docs/deploying.md section 6), done here because this server is ours.
  if [ -f "$MROONGA" ]; then
    mariadb --no-defaults --socket="$SOCK" -uroot \
      -e "CREATE FUNCTION IF NOT EXISTS mroonga_command RETURNS STRING SONAME 'ha_mroonga.so'" ||
      echo "no mroonga_command function: search counts take Mroonga's SQL path"
  fi
  echo "MariaDB $(mariadbd --version | awk '{print $3}') on 127.0.0.1:$PORT"
}

throwaway_main "${1:-}" "mysql://luffy:luffy@127.0.0.1:$PORT/luffy"
