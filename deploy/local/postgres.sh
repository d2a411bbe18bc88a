#!/usr/bin/env bash
# A private PostgreSQL cluster on 127.0.0.1, in a data folder the project owns, from
# Debian's packages (installed with apt-get when missing). Idempotent.
#
#   postgres.sh install   apt-get install postgresql when no server binaries exist
#   postgres.sh start     initdb on first start, start, wait until ready, create the database
#   postgres.sh stop      fast shutdown
#   postgres.sh kill      immediate shutdown, as after a crash (fault tests)
#   postgres.sh status    exit 0 when running
#   postgres.sh wipe      stop and delete the cluster
#
# Skipped when POSTGRES_HOST is set: that PostgreSQL is somebody else's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HOME_DIR="$LOCAL_DIR/postgres"
DATA="$HOME_DIR/data"
LOGFILE="$HOME_DIR/postgres.log"
SOCKETS="$HOME_DIR/run"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install() {
  [[ -n "$(pg_bin)" ]] && return 0
  log "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  [[ -n "$(pg_bin)" ]] || die "postgresql installed but no server binaries found"
}

# PostgreSQL refuses to run as root: as root, run its tools as the postgres user.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

init_cluster() {
  [[ -f "$DATA/PG_VERSION" ]] && return 0
  local bin; bin="$(pg_bin)"
  mkdir -p "$DATA" "$SOCKETS"
  [[ "$(id -u)" == 0 ]] && chown -R postgres:postgres "$HOME_DIR"
  local pwfile="$HOME_DIR/.pw"
  printf '%s\n' "$PG_PASSWORD" >"$pwfile"
  [[ "$(id -u)" == 0 ]] && chown postgres "$pwfile"
  log "initdb in $DATA"
  as_owner "$bin/initdb" -D "$DATA" -U "$PG_USER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$HOME_DIR/initdb.log" 2>&1 \
    || die "initdb failed: see $HOME_DIR/initdb.log"
  rm -f "$pwfile"
  cat >>"$DATA/postgresql.conf" <<CONF

# servicedesk local cluster
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCKETS'
max_connections = 1000
shared_buffers = 512MB
synchronous_commit = on
fsync = on
wal_level = replica
max_wal_size = 2GB
log_min_messages = warning
CONF
}

start() {
  someone_elses POSTGRES_HOST "a local PostgreSQL" && return 0
  install
  init_cluster
  local bin; bin="$(pg_bin)"
  if ! as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "starting PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 start >/dev/null \
      || { tail -n 20 "$LOGFILE" >&2; die "PostgreSQL did not start"; }
  else
    log "already running on 127.0.0.1:$PG_PORT"
  fi
  if ! as_owner "$bin/psql" -h "$SOCKETS" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
    as_owner "$bin/psql" -h "$SOCKETS" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE $PG_DB"
  fi
  log "ready: POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=$PG_PORT POSTGRES_USER=$PG_USER POSTGRES_DBNAME=$PG_DB"
}

stop_mode() {
  [[ -f "$DATA/PG_VERSION" ]] || return 0
  local bin; bin="$(pg_bin)"
  as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1 || return 0
  as_owner "$bin/pg_ctl" -D "$DATA" -m "$1" -w -t 60 stop >/dev/null
}

stop() { stop_mode fast; }

hard_kill() { stop_mode immediate; }

running() { [[ -f "$DATA/PG_VERSION" ]] && as_owner "$(pg_bin)/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

wipe() { stop; rm -rf "$HOME_DIR"; }

infra_command "$@"
