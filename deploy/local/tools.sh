#!/usr/bin/env bash
# The checkers of deploy/'s manifests (deploy/check.sh), built with Go from their modules at the
# versions pinned here, and the Kubernetes JSON schemas they check against, from the
# Python package kubernetes-validate (kubeconform's own schemas are fetched from GitHub at run
# time, which CI cannot reach). The binaries and schemas land in .local/ (`make clean` drops them);
# Go's module and build caches are the user's own, as with `go install`. Fails when a tool cannot
# be built: a green run must have checked something.
#
#   tools.sh [install]   build or fetch what is missing
#   tools.sh env         print the paths deploy/check.sh uses (shell assignments)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

COMPOSE_VERSION="v2.40.3"           # github.com/docker/compose/v2: `docker compose config`
KUSTOMIZE_VERSION="v5.8.2"          # sigs.k8s.io/kustomize/kustomize/v5 (v5.8.3 needs Go 1.27)
KUBECONFORM_VERSION="v0.8.0"        # github.com/yannh/kubeconform
KUBERNETES_VALIDATE_VERSION="1.37.0" # its wheel ships JSON schemas of Kubernetes 1.25–1.37
KUBERNETES_VERSIONS="1.33.0 1.37.0" # deploy/check.sh validates against each

TOOLS="$LOCAL_DIR/tools"
BIN="$LOCAL_DIR/bin"
COMPOSE="$LOCAL_DIR/docker/cli-plugins/docker-compose" # a docker CLI plugin that also runs on its own
SCHEMAS="$CACHE_DIR/kubernetes-json-schema-$KUBERNETES_VALIDATE_VERSION-${KUBERNETES_VERSIONS// /-}"
PY="$ROOT_DIR/.venv/bin/python"
[[ -x "$PY" ]] || PY=python3

export CGO_ENABLED=0

# go_tool PACKAGE VERSION TARGET: PACKAGE at its module's VERSION built once into TARGET. Built in a
# throwaway module that requires it, as `go install PACKAGE@VERSION` would, except that compose's
# go.mod has `exclude` directives, which `go install` refuses (a requiring module ignores them).
go_tool() {
  local package="$1" version="$2" target="$3"
  local stamp="$TOOLS/$(basename "$target")@$version"
  [[ -x "$target" && -f "$stamp" ]] && return 0
  command -v go >/dev/null || die "go is required to build $package"
  log "building $package@$version"
  local work; work="$(mktemp -d)"
  trap 'rm -rf "$work"; trap - RETURN' RETURN
  mkdir -p "$TOOLS" "$(dirname "$target")"
  if ! (
    cd "$work"
    go mod init servicedesk.local/tools
    go get "$package@$version"
    go build -trimpath -ldflags=-s -o "$work/bin" "$package"
  ) >"$work/log" 2>&1; then
    grep -v '^go: downloading' "$work/log" >&2
    die "building $package@$version failed"
  fi
  mv -f "$work/bin" "$target"
  rm -f "$TOOLS/$(basename "$target")"@* && touch "$stamp"
}

# The strict per-kind schemas of each of KUBERNETES_VERSIONS, made loadable from files: the package's
# schemas name themselves https://kubernetes.io/api/... (`$id`) and refer to the shared definitions
# as /api/_definitions.json; without the `$id`s, "_definitions.json" resolves beside each file.
schemas() {
  [[ -f "$SCHEMAS/.complete" ]] && return 0
  log "fetching Kubernetes JSON schemas (kubernetes-validate $KUBERNETES_VALIDATE_VERSION)"
  local wheels; wheels="$(mktemp -d)"
  trap 'rm -rf "$wheels"; trap - RETURN' RETURN
  "$PY" -m pip download -q --no-deps --only-binary=:all: -d "$wheels" \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" || die "pip download kubernetes-validate failed"
  rm -rf "$SCHEMAS.tmp"
  "$PY" - "$wheels"/kubernetes_validate-*.whl "$SCHEMAS.tmp" $KUBERNETES_VERSIONS <<'PY' || die "unpacking the schemas failed"
import json, sys, zipfile
from pathlib import Path

wheel, out, versions = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
with zipfile.ZipFile(wheel) as archive:
    for version in versions:
        folder = f"v{version}-local-strict"
        prefix = f"kubernetes_validate/kubernetes-json-schema/{folder}/"
        names = [n for n in archive.namelist() if n.startswith(prefix) and n.endswith(".json")]
        if not names:
            sys.exit(f"no schemas of Kubernetes {version} in {wheel}")
        (out / folder).mkdir(parents=True)
        for name in names:
            schema = json.loads(archive.read(name).decode().replace('"/api/_definitions.json#', '"_definitions.json#'))
            schema.pop("$id", None)
            (out / folder / name[len(prefix):]).write_text(json.dumps(schema))
PY
  touch "$SCHEMAS.tmp/.complete"
  rm -rf "$SCHEMAS" && mv "$SCHEMAS.tmp" "$SCHEMAS"
}

install() {
  go_tool github.com/docker/compose/v2/cmd "$COMPOSE_VERSION" "$COMPOSE"
  go_tool sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION" "$BIN/kustomize"
  go_tool github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION" "$BIN/kubeconform"
  schemas
}

case "${1:-install}" in
  install) install ;;
  env) printf 'COMPOSE=%q\nKUSTOMIZE=%q\nKUBECONFORM=%q\nSCHEMAS=%q\nKUBERNETES_VERSIONS=%q\n' \
    "$COMPOSE" "$BIN/kustomize" "$BIN/kubeconform" "$SCHEMAS" "$KUBERNETES_VERSIONS" ;;
  *) echo "usage: $0 [install|env]" >&2; exit 2 ;;
esac
