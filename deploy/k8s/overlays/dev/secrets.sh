#!/usr/bin/env bash
# The dev overlay's Secrets, made once beside this script (not committed): servicedesk-secrets from
# secrets.env, one random value per secret of the desk, and servicedesk-postgres from postgres.env,
# the database user and a random password (give the cluster's PostgreSQL the same: `grep PASSWORD
# postgres.env`). Kept, not remade: the personal-data secret wraps every person's key, so a new one
# loses their data. A secret added to a list later is added to its file; `kustomize build` of the
# overlay needs both files.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Every secret of services/chassis/runtime/settings.py (tests/unit/test_desk_secrets.py checks the list).
SECRETS=(SERVICEDESK_INTERNAL_TOKEN_SECRET SERVICEDESK_PERSONAL_DATA_SECRET SERVICEDESK_KEYWORD_SECRET SERVICEDESK_AUDIT_SECRET SERVICEDESK_WEB_CLIENT_SECRET SERVICEDESK_WEB_SESSION_SECRET)

random() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }

umask 077
touch "$HERE/secrets.env" "$HERE/postgres.env"
for name in "${SECRETS[@]}"; do
  grep -q "^$name=" "$HERE/secrets.env" || echo "$name=$(random 48)" >>"$HERE/secrets.env"
done
grep -q "^POSTGRES_USER=" "$HERE/postgres.env" || echo "POSTGRES_USER=servicedesk" >>"$HERE/postgres.env"
grep -q "^POSTGRES_PASSWORD=" "$HERE/postgres.env" || echo "POSTGRES_PASSWORD=$(random 24)" >>"$HERE/postgres.env"
