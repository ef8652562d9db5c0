# Sourced by scripts/mariadb.sh and scripts/redis.sh: what every throwaway server shares.
# The sourcing script sets DIR (its data, removed on stop) and PIDFILE, and defines `start`.

stop_quietly() {
  if [ -f "$PIDFILE" ]; then
    kill "$(cat "$PIDFILE")" 2>/dev/null || true
    for _ in $(seq 1 40); do [ -f "$PIDFILE" ] || break; sleep 0.25; done
  fi
  rm -rf "$DIR"
}

# throwaway_main COMMAND URL: start, stop, or print the URL clients use.
throwaway_main() {
  case "$1" in
    start) start ;;
    stop) stop_quietly ;;
    url) echo "$2" ;;
    *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
  esac
}
