#!/usr/bin/env bash
# Checks the container and cluster manifests offline (`make lint`; tools from deploy/local/tools.sh,
# installed here when missing):
#   docker-compose.yml   `docker compose config`: the file parses and every reference resolves
#                        (no Docker engine needed)
#   deploy/k8s/overlays  `kustomize build` of each overlay, every object validated by kubeconform
#                        -strict against the JSON schemas of each Kubernetes version in tools.sh
# Fails when anything does not check: a green run must have checked something.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/local/common.sh"

"$ROOT_DIR/deploy/local/tools.sh" install
eval "$("$ROOT_DIR/deploy/local/tools.sh" env)"

log "docker-compose.yml"
# The settings an operator must give (compose refuses to start without them), as placeholders.
(cd "$ROOT_DIR" && SERVICEDESK_AUTH_ISSUER=https://id.example.org/ \
  SERVICEDESK_AUTH_JWKS=https://id.example.org/.well-known/jwks.json SERVICEDESK_INTERNAL_TOKEN_SECRET=placeholder \
  SERVICEDESK_PERSONAL_DATA_SECRET=placeholder SERVICEDESK_KEYWORD_SECRET=placeholder SERVICEDESK_AUDIT_SECRET=placeholder \
  SERVICEDESK_WEB_OIDC_ISSUER=https://id.example.org/ SERVICEDESK_WEB_CLIENT_SECRET=placeholder \
  SERVICEDESK_WEB_SESSION_SECRET=placeholder \
  POSTGRES_PASSWORD=placeholder \
  "$COMPOSE" config --quiet)

# The dev overlay's Secret comes from a file of generated secrets, made once (not committed).
"$ROOT_DIR/deploy/k8s/overlays/dev/secrets.sh"

status=0
for overlay in "$ROOT_DIR"/deploy/k8s/overlays/*/; do
  name="deploy/k8s/overlays/$(basename "$overlay")"
  manifests="$("$KUSTOMIZE" build "$overlay")" || { log "$name: kustomize build failed"; status=1; continue; }
  for version in $KUBERNETES_VERSIONS; do
    log "$name on Kubernetes $version"
    "$KUBECONFORM" -strict -summary -kubernetes-version "$version" \
      -schema-location "$SCHEMAS/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
      - <<<"$manifests" || status=1
    echo # kubeconform's summary ends without a newline
  done
done
exit "$status"
