#!/usr/bin/env bash
# kcat, a Kafka client written by nobody here: the integration tests read our topics with it,
# as an outside consumer would. From Debian's `kcat` package, installed with apt-get when
# missing. Fails when it cannot be installed: a green run must have tested something.
#
#   kcat.sh [install]   install kcat if missing
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install() {
  command -v kcat >/dev/null && return 0
  log "installing kcat from Debian's kcat package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: cannot install kcat"
  apt-get install -y -qq --no-install-recommends kcat >/dev/null || die "apt-get install kcat failed"
  command -v kcat >/dev/null || die "kcat installed but not found on PATH"
}

case "${1:-install}" in
  install) install ;;
  *) echo "usage: $0 [install]" >&2; exit 2 ;;
esac
