#!/usr/bin/env bash
# What the web service and its browser tests need, installed when missing:
#   - Chromium from Debian's `chromium` package (/usr/bin/chromium): Playwright for Python drives it
#     (`playwright install` cannot download browsers here); its system service is none to start;
#   - the pages' scripts (htmx and its SSE extension), pinned in services/web/assets/package-lock.json,
#     with `npm ci` into services/web/assets/node_modules, from where the web service serves them.
# Fails when anything cannot be installed: a green run must have tested something.
#
#   browser.sh [install]   install what is missing
#   browser.sh assets      only the pages' scripts (what `make run` needs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ASSETS="$ROOT_DIR/services/web/assets"

assets() {
  local stamp="$ASSETS/node_modules/.installed"
  [[ -f "$stamp" && "$stamp" -nt "$ASSETS/package-lock.json" ]] && return 0
  command -v npm >/dev/null || die "npm not found: install Node.js to fetch the pages' scripts"
  log "installing the pages' scripts (services/web/assets/package-lock.json)"
  (cd "$ASSETS" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || die "npm ci failed"
  touch "$stamp"
}

chromium() {
  [[ -x /usr/bin/chromium ]] && return 0
  log "installing Chromium from Debian's chromium package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: cannot install chromium"
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null || die "apt-get install chromium failed"
  [[ -x /usr/bin/chromium ]] || die "chromium installed but /usr/bin/chromium is missing"
}

case "${1:-install}" in
  install) assets; chromium ;;
  assets) assets ;;
  *) echo "usage: $0 [install|assets]" >&2; exit 2 ;;
esac
