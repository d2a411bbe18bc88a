#!/usr/bin/env bash
# What the web service and its browser tests need, installed when missing:
#   - Chromium from Debian's `chromium` package (/usr/bin/chromium), which Playwright for Python drives
#     (`executable_path`, `--no-sandbox`): Playwright's own browser download cannot reach its host here;
#   - the pages' scripts (htmx and its SSE extension), pinned in services/web/assets/package-lock.json,
#     with `npm ci` into services/web/assets/node_modules, from where the web service serves them;
#   - what the browser tests inject into pages (axe-core), pinned in tests/browser/assets/package-lock.json;
#   each folder then keeps only the minified scripts and their licences (services/web/assets/keep-served.sh).
# Fails when anything cannot be installed: a green run must have tested something.
#
#   browser.sh [install]   install what is missing
#   browser.sh assets      only the pages' scripts (what `make run` needs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# npm_ci FOLDER: the packages its package-lock.json pins, into FOLDER/node_modules, unless there already.
npm_ci() {
  local stamp="$1/node_modules/.installed"
  [[ -f "$stamp" && "$stamp" -nt "$1/package-lock.json" ]] && return 0
  command -v npm >/dev/null || die "npm not found: install Node.js to fetch the packages of $1"
  log "installing the packages of ${1#"$ROOT_DIR"/}/package-lock.json"
  (cd "$1" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || die "npm ci failed in $1"
  "$ROOT_DIR/services/web/assets/keep-served.sh" "$1/node_modules"
  touch "$stamp"
}

assets() { npm_ci "$ROOT_DIR/services/web/assets"; }

chromium() {
  [[ -x /usr/bin/chromium ]] && return 0
  log "installing Chromium from Debian's chromium package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: cannot install chromium"
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null || die "apt-get install chromium failed"
  [[ -x /usr/bin/chromium ]] || die "chromium installed but /usr/bin/chromium is missing"
}

case "${1:-install}" in
  install) assets; npm_ci "$ROOT_DIR/tests/browser/assets"; chromium ;;
  assets) assets ;;
  *) echo "usage: $0 [install|assets]" >&2; exit 2 ;;
esac
