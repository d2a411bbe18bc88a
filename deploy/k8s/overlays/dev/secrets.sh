#!/usr/bin/env bash
# The dev overlay's Secret servicedesk-secrets: one random value per secret of the desk, made once
# into secrets.env beside this script (not committed). Kept, not remade: the personal-data secret
# wraps every person's key, so a new one loses their data. A secret added to the list later is
# added to the file; `kustomize build` of the overlay needs the file.
set -euo pipefail
FILE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets.env"
# Every secret of services/chassis/settings.py (tests/unit/test_desk_secrets.py checks the list).
SECRETS=(SERVICEDESK_INTERNAL_TOKEN_SECRET SERVICEDESK_PERSONAL_DATA_SECRET SERVICEDESK_KEYWORD_SECRET SERVICEDESK_AUDIT_SECRET)

umask 077
touch "$FILE"
for name in "${SECRETS[@]}"; do
  grep -q "^$name=" "$FILE" || echo "$name=$(head -c 48 /dev/urandom | base64 | tr -d '\n')" >>"$FILE"
done
