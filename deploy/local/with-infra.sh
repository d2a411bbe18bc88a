#!/usr/bin/env bash
# Run a command with real PostgreSQL and Kafka up; stop afterwards only what this
# script started. Exits with the command's status.
#
#   deploy/local/with-infra.sh pytest ...
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
started=()

if [[ -z "${POSTGRES_HOST:-}" ]] && ! "$HERE/postgres.sh" status; then
  "$HERE/postgres.sh" start || exit 1
  started+=(postgres.sh)
fi
if [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]] && ! "$HERE/kafka.sh" status; then
  "$HERE/kafka.sh" start || exit 1
  started+=(kafka.sh)
fi

"$@"
status=$?

for script in "${started[@]}"; do
  "$HERE/$script" stop
done
exit $status
