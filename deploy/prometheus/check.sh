#!/usr/bin/env bash
# Checks the monitoring artefacts with promtool, from Debian's `prometheus` package (installed
# with apt-get when promtool is missing). Fails when anything does not check, or when promtool
# cannot be installed: a green run must have checked something.
#
#   check.sh           install promtool if missing, then check:
#                        alerts.yml          promtool check rules, and the alert tests in alerts_test.yml
#                        prometheus*.yml     promtool check config (each resolves alerts.yml beside it)
#                        Grafana dashboards  every panel's PromQL parses (as recording rules)
#   check.sh install   only install promtool if missing
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/common.sh"

HERE="$ROOT_DIR/deploy/prometheus"

install() {
  command -v promtool >/dev/null && return 0
  log "installing promtool from Debian's prometheus package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  command -v promtool >/dev/null || die "prometheus installed but no promtool found"
}

check() {
  install
  promtool check rules --lint-fatal "$HERE/alerts.yml"
  promtool test rules "$HERE/alerts_test.yml"
  promtool check config --lint-fatal "$HERE/prometheus.yml" "$HERE/prometheus.local.yml"
  local rules; rules="$(mktemp --suffix=.yml)"
  trap 'rm -f "$rules"' RETURN
  python3 "$ROOT_DIR/tests/monitoring.py" rules >"$rules"
  log "Grafana dashboards' PromQL:"
  promtool check rules "$rules"
}

case "${1:-check}" in
  install) install ;;
  check) check ;;
  *) echo "usage: $0 [check|install]" >&2; exit 2 ;;
esac
