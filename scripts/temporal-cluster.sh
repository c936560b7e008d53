#!/usr/bin/env bash
# Builds the Temporal server's own binaries for the multi-process cluster of the tests
# (test/temporal-cluster.ts), once, and caches them with the PostgreSQL schema they set up:
#   <cache>/temporal-server-v1.29.1/bin/server   the server (one process per service)
#   <cache>/temporal-server-v1.29.1/bin/sql      the SQL schema tool
#   <cache>/temporal-server-v1.29.1/bin/tdbg     the admin CLI (which history process owns a workflow's shard)
#   <cache>/temporal-server-v1.29.1/schema/postgresql/v12/{temporal,visibility}/versioned
# The schema comes from the Go module cache, which may be gone on a later run when the binaries are
# still cached: it is copied beside them. A fresh build takes about 3 min on 2 cores (no replace
# directive in go.temporal.io/server's go.mod, so `go install` builds it from the module proxy).
# Prints the cached folder on stdout; progress on stderr. Called by scripts/provision.sh --only cluster.
set -euo pipefail

VERSION=v1.29.1
CACHE="${GAMEDAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gameday}"
DIR="$CACHE/temporal-server-$VERSION"
log() { printf '[provision] %s\n' "$*" >&2; }

if [ -x "$DIR/bin/server" ] && [ -x "$DIR/bin/sql" ] && [ -x "$DIR/bin/tdbg" ] && [ -d "$DIR/schema/postgresql/v12/temporal/versioned" ]; then
  log "cluster: Temporal server $VERSION cached in $DIR"
  echo "$DIR"
  exit 0
fi

command -v go >/dev/null 2>&1 || { log "cannot provision cluster: no Go toolchain to build the Temporal server $VERSION (install Go 1.24 or later)"; exit 1; }
mkdir -p "$CACHE"
partial="$DIR.partial"
mkdir -p "$partial/bin"
build_log="$CACHE/temporal-server-build.log"
log "cluster: building the Temporal server $VERSION with go install (once, ~3 min on 2 cores; cached in $DIR; log $build_log)"
started=$SECONDS
if ! GOBIN="$partial/bin" GOFLAGS=-mod=mod go install \
  "go.temporal.io/server/cmd/server@$VERSION" \
  "go.temporal.io/server/cmd/tools/sql@$VERSION" \
  "go.temporal.io/server/cmd/tools/tdbg@$VERSION" >"$build_log" 2>&1; then
  tail -5 "$build_log" >&2
  log "cannot provision cluster: go install of go.temporal.io/server@$VERSION failed; see $build_log"
  exit 1
fi
module="$(go env GOMODCACHE)/go.temporal.io/server@$VERSION"
mkdir -p "$partial/schema/postgresql"
rm -rf "$partial/schema/postgresql/v12"
cp -r "$module/schema/postgresql/v12" "$partial/schema/postgresql/"
chmod -R u+w "$partial/schema"
rm -rf "$DIR"
mv "$partial" "$DIR"
log "cluster: built the Temporal server $VERSION in $((SECONDS - started)) s"
echo "$DIR"
