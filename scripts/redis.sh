#!/usr/bin/env bash
# A throwaway Redis server for the test suite and the two-node drill, on loopback only.
#   scripts/redis.sh start   installs redis-server if missing, starts it (no persistence)
#   scripts/redis.sh stop    stops it and removes its directory
#   scripts/redis.sh url     prints CACHE_URL for it
# It listens on 127.0.0.1:${REDIS_PORT:-6390} with its files under .tmp/redis-<port>/.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/throwaway.sh
. scripts/throwaway.sh

PORT=${REDIS_PORT:-6390}
DIR=$PWD/.tmp/redis-$PORT
PIDFILE=$DIR/redis.pid

start() {
  command -v redis-server >/dev/null || scripts/bootstrap.sh --redis
  stop_quietly
  mkdir -p "$DIR"
  # No RDB/AOF: a test cache starts empty and leaves nothing behind. protected-mode stays on.
  redis-server --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --pidfile "$PIDFILE" \
    --logfile "$DIR/redis.log" --daemonize yes --save '' --appendonly no \
    --maxmemory 128mb --maxmemory-policy allkeys-lru
  for _ in $(seq 1 40); do
    redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.25
  done
  redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG || {
    echo "Redis did not start; its log:"; cat "$DIR/redis.log"; exit 1; }
  echo "Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$PORT"
}

throwaway_main "${1:-}" "redis://127.0.0.1:$PORT/0"
