#!/usr/bin/env bash
# Dovecot, an IMAP server written by nobody here: the integration tests start a private one (its
# own folder, port and users, see tests/imap_server.py) as a real mailbox for intake's IMAP poller.
# From Debian's `dovecot-imapd` package, installed with apt-get when missing; the package's own
# system service is never started. Fails when it cannot be installed: a green run must have
# tested something.
#
#   dovecot.sh [install]   install dovecot if missing
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install() {
  command -v dovecot >/dev/null && [[ -x /usr/lib/dovecot/imap ]] && return 0
  log "installing dovecot from Debian's dovecot-imapd package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: cannot install dovecot"
  apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null || die "apt-get install dovecot-imapd failed"
  command -v dovecot >/dev/null || die "dovecot installed but not found on PATH"
}

case "${1:-install}" in
  install) install ;;
  *) echo "usage: $0 [install]" >&2; exit 2 ;;
esac
