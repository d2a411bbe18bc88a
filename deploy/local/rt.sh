#!/usr/bin/env bash
# Request Tracker 5, a desk written by nobody here: the importer's tests fill a real one through its
# own REST2 API and import it (issue 25). From Debian's `request-tracker5` package with its
# PostgreSQL backend and standalone web server, installed with apt-get when missing; the package's
# own system service is never started. Its database (`rt5`) lives in the local PostgreSQL
# (postgres.sh), its configuration, log and pid under .local/rt; `rt-server` listens on 127.0.0.1.
#
#   rt.sh install   install the packages if missing
#   rt.sh start     set up the database on first start, start rt-server, wait until REST2 answers
#   rt.sh stop      stop rt-server
#   rt.sh status    true when rt-server runs
#   rt.sh token     print a fresh REST2 auth token of RT's `root` (one per call)
#   rt.sh wipe      stop, drop the database and forget the configuration
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RT_PORT="${SERVICEDESK_RT_PORT:-18480}"
RT_DB="${SERVICEDESK_RT_DB:-rt5}"
HOME_DIR="$LOCAL_DIR/rt"
CONFIG="$HOME_DIR/RT_SiteConfig.pm"
PIDFILE="$HOME_DIR/rt-server.pid"
LOGFILE="$HOME_DIR/rt-server.log"
SERVER=/usr/share/request-tracker5/libexec/rt-server
PACKAGES=(request-tracker5 rt5-db-postgresql rt5-standalone)

export RT_SITE_CONFIG="$CONFIG" RT_SITE_CONFIG_DIR="$HOME_DIR/site.d"  # never the package's /etc config

install() {
  [[ -x "$SERVER" && -x /usr/sbin/rt-setup-database-5 ]] && dpkg -s rt5-db-postgresql rt5-standalone >/dev/null 2>&1 && return 0
  log "installing Request Tracker 5 from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: cannot install Request Tracker"
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null || die "apt-get install ${PACKAGES[*]} failed"
  [[ -x "$SERVER" ]] || die "request-tracker5 installed but $SERVER not found"
}

configure() {
  mkdir -p "$HOME_DIR/site.d"
  cat >"$CONFIG" <<CONF
# Written by deploy/local/rt.sh: a private Request Tracker for the importer's tests.
Set(\$rtname, 'rt.test');
Set(\$Organization, 'rt.test');
Set(\$Timezone, 'UTC');
Set(\$DatabaseType, 'Pg');
Set(\$DatabaseHost, '127.0.0.1');
Set(\$DatabasePort, '$PG_PORT');
Set(\$DatabaseName, '$RT_DB');
Set(\$DatabaseUser, 'rt_user');
Set(\$DatabasePassword, 'rt_pass');
Set(\$DatabaseAdmin, '$PG_USER');
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $RT_PORT);
Set(\$WebPath, '');
Set(\$LogToSTDERR, 'error');
Set(\$LogToSyslog, undef);
Set(\$LogToFile, undef);
1;
CONF
}

database_exists() {
  PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$RT_DB'" | grep -q 1
}

start() {
  install
  "$(dirname "${BASH_SOURCE[0]}")/postgres.sh" start
  configure
  if ! database_exists; then
    log "setting up RT's database $RT_DB"
    (cd "$HOME_DIR" && /usr/sbin/rt-setup-database-5 --action init --dba "$PG_USER" --dba-password "$PG_PASSWORD" \
      >"$HOME_DIR/setup.log" 2>&1) || { tail -n 20 "$HOME_DIR/setup.log" >&2; die "rt-setup-database failed"; }
  fi
  if pid_alive "$PIDFILE"; then
    log "already running on 127.0.0.1:$RT_PORT"
  else
    log "starting rt-server on 127.0.0.1:$RT_PORT"
    (cd "$HOME_DIR" || exit 1; "$SERVER" --server Standalone --listen "127.0.0.1:$RT_PORT" </dev/null >"$LOGFILE" 2>&1 & echo $! >"$PIDFILE")
  fi
  local deadline=$((SECONDS + 90))
  until curl -sf --max-time 10 -o /dev/null -u root:password "http://127.0.0.1:$RT_PORT/REST/2.0/queues/all"; do
    pid_alive "$PIDFILE" || { tail -n 20 "$LOGFILE" >&2; die "rt-server exited"; }
    ((SECONDS < deadline)) || die "rt-server did not answer within 90 s: see $LOGFILE"
    sleep 0.5
  done
  log "ready: RT_URL=http://127.0.0.1:$RT_PORT"
}

stop() {
  pid_alive "$PIDFILE" || return 0
  kill "$(cat "$PIDFILE")"
  rm -f "$PIDFILE"
}

running() { pid_alive "$PIDFILE"; }

token() {
  running || die "rt-server is not running: rt.sh start"
  (cd "$HOME_DIR" && perl -I/usr/share/request-tracker5/lib -e '
    use RT; RT::LoadConfig(); RT::Init();
    my $root = RT::User->new(RT->SystemUser); $root->Load("root");
    my ($ok, $message, $token) = RT::AuthToken->new(RT->SystemUser)->Create(Owner => $root->Id, Description => "servicedesk import");
    $ok or die "$message\n"; print "$token\n";' 2>/dev/null)
}

wipe() {
  stop
  if database_exists; then
    PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "DROP DATABASE $RT_DB" -c "DROP ROLE IF EXISTS rt_user"
  fi
  rm -rf "$HOME_DIR"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) running ;;
  token) token ;;
  wipe) wipe ;;
  *) echo "usage: $0 install|start|stop|status|token|wipe" >&2; exit 2 ;;
esac
