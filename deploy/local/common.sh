# Shared paths and ports for the local (no-Docker) Kafka and PostgreSQL.
# Sourced by kafka.sh and postgres.sh; every value can be overridden from the environment.
# Also the functions both share.
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="${SERVICEDESK_LOCAL_DIR:-$ROOT_DIR/.local}"
CACHE_DIR="${SERVICEDESK_CACHE_DIR:-$LOCAL_DIR/cache}"
KAFKA_PORT="${SERVICEDESK_KAFKA_PORT:-19092}"
# The controller sits 1000 above the broker, not next to it: the natural "next desk" broker port
# (19093 beside 19092) must not be the first desk's controller. One setting moves both.
KAFKA_CONTROLLER_PORT="${SERVICEDESK_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1000))}"
PG_PORT="${SERVICEDESK_PG_PORT:-15432}"
PG_USER="${SERVICEDESK_PG_USER:-servicedesk}"
PG_PASSWORD="${SERVICEDESK_PG_PASSWORD:-servicedesk}"
PG_DB="${SERVICEDESK_PG_DB:-servicedesk}"

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# pid_alive FILE: true when FILE names a running process.
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for_port PORT SECONDS: true once something accepts connections on 127.0.0.1:PORT.
wait_for_port() {
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# someone_elses VAR WHAT: true, saying so, when VAR is set: that WHAT is somebody else's, not ours to start.
someone_elses() {
  [[ -n "${!1:-}" ]] || return 1
  log "$1=${!1} is set: not starting $2"
}

# infra_command "$@": the command line of kafka.sh and postgres.sh, each of which defines
# install, start, stop, hard_kill, running and wipe.
infra_command() {
  case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    kill) hard_kill ;;
    status) running ;;
    wipe) wipe ;;
    *) echo "usage: $0 install|start|stop|kill|status|wipe" >&2; exit 2 ;;
  esac
}
