#!/usr/bin/env bash
# Provisions the local stack Gameday needs, idempotently: reuses whatever already runs.
#   - a Docker engine (the running one; else, as root on Debian, installs docker.io and starts dockerd),
#     and iptables and nsenter on the host (for the packet-loss and stress faults)
#   - the target images (gameday/nats:local, gameday/busybox:local, and the demo target system's
#     gameday/target-app:local, gameday/postgres:local, gameday/toxiproxy:local: scripts/target-images.sh)
#     built from binaries on the machine
#   - docker-compose (apt), for examples/target-system/docker-compose.yml
#   - the Temporal CLI (TEMPORAL_CLI_PATH, PATH, the cache, a `go install`, or a download)
#   - the Temporal dev server on 127.0.0.1:7233 (UI 8233, HTTP API 7243), its database under .gameday/
#   - a throwaway PostgreSQL on 127.0.0.1:55432 (for the PostgreSQL probes and the tests), with the
#     results store's database `gameday` and its migrations (migrations/) applied
#   - Chromium at /usr/bin/chromium (the Web UI end-to-end test drives it through playwright-core)
#   - only with --only cluster (test/temporal-cluster.ts asks for it when it starts a cluster): the
#     Temporal server's own binaries for the multi-process cluster, built once into the cache
#     (scripts/temporal-cluster.sh)
# Usage: scripts/provision.sh [--only docker|images|compose|temporal|postgres|chromium|cluster]...
# Each piece that cannot be provisioned stops the script with a line saying which and how to provide it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE="$ROOT/.gameday"
CACHE="${GAMEDAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gameday}"
TEMPORAL_CLI_VERSION=v1.5.1
TEMPORAL_HOSTPORT="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
TEMPORAL_PORT="${TEMPORAL_HOSTPORT##*:}"
TEMPORAL_UI_PORT="${GAMEDAY_UI_PORT:-8233}"
PG_PORT="${GAMEDAY_PG_PORT:-55432}"
mkdir -p "$STATE" "$CACHE/bin"

log() { printf '[provision] %s\n' "$*" >&2; }
die() { printf '[provision] cannot provision %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
have_apt() { command -v apt-get >/dev/null 2>&1; }
apt_updated=""
apt_install() {
  is_root && have_apt || return 1
  if [ -z "$apt_updated" ]; then apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
wait_for() { # wait_for <seconds> <command...>
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

# iptables and nsenter on the host: the packet-loss and stress faults act inside containers with them.
provision_host_tools() {
  local missing=()
  command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
  command -v nsenter >/dev/null 2>&1 || missing+=(util-linux)
  [ ${#missing[@]} -gt 0 ] || return 0
  log "host tools: installing ${missing[*]}"
  apt_install "${missing[@]}" || die "host tools: ${missing[*]} (needed by docker-packet-loss and the stress faults; install them as root)"
}

provision_docker() {
  provision_host_tools
  if docker info >/dev/null 2>&1; then log "docker: engine already running"; return; fi
  if [ -n "${DOCKER_HOST:-}" ]; then die "docker: DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST"; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    log "docker: installing docker.io"
    apt_install docker.io iptables || die "docker: no engine runs and docker.io cannot be installed here (needs root and apt-get); install Docker and start it, or set DOCKER_HOST"
  fi
  is_root || die "docker: dockerd is installed but not running, and starting it needs root; start it (sudo systemctl start docker)"
  log "docker: starting dockerd"
  nohup dockerd --host unix:///var/run/docker.sock >"$STATE/dockerd.log" 2>&1 &
  wait_for 30 docker info || die "docker: dockerd did not answer within 30 s; see $STATE/dockerd.log"
  log "docker: engine started"
}

# Builds an image from a root filesystem of binaries already on the machine (no registry is needed).
import_rootfs() { # import_rootfs <image> <rootfs dir> [docker import -c args...]
  local image=$1 dir=$2; shift 2
  tar -C "$dir" -c . | docker import "$@" - "$image" >/dev/null
}

provision_images() {
  if docker image inspect gameday/busybox:local >/dev/null 2>&1; then
    log "images: gameday/busybox:local present"
  else
    local bb; bb=$(command -v busybox || true)
    if [ -z "$bb" ] || ! file_is_static "$bb"; then apt_install busybox-static || true; bb=/bin/busybox; fi
    if [ -x "$bb" ] && file_is_static "$bb"; then
      local dir; dir=$(mktemp -d)
      mkdir -p "$dir/bin" "$dir/tmp" "$dir/www"
      cp "$bb" "$dir/bin/busybox"
      for c in sh sleep nc httpd echo cat ls kill ps wget; do ln -s busybox "$dir/bin/$c"; done
      import_rootfs gameday/busybox:local "$dir" -c 'CMD ["/bin/sh"]'
      rm -rf "$dir"
      log "images: built gameday/busybox:local from $bb"
    elif docker pull busybox:1.36 >/dev/null 2>&1; then
      docker tag busybox:1.36 gameday/busybox:local
      log "images: pulled busybox:1.36 as gameday/busybox:local"
    else
      die "images: gameday/busybox:local (no static busybox here and no registry: apt-get install busybox-static)"
    fi
  fi

  if docker image inspect gameday/nats:local >/dev/null 2>&1; then
    log "images: gameday/nats:local present"
  else
    command -v nats-server >/dev/null 2>&1 || apt_install nats-server || true
    local ns; ns=$(command -v nats-server || true)
    if [ -n "$ns" ]; then
      local dir; dir=$(mktemp -d)
      mkdir -p "$dir/usr/sbin" "$dir/tmp"
      cp "$ns" "$dir/usr/sbin/nats-server"
      # nats-server links only libc: copy what ldd names, at the same paths.
      for lib in $(ldd "$ns" | grep -o '/[^ ]*'); do
        mkdir -p "$dir$(dirname "$lib")"; cp -L "$lib" "$dir$lib"
      done
      import_rootfs gameday/nats:local "$dir" -c 'ENTRYPOINT ["/usr/sbin/nats-server"]'
      rm -rf "$dir"
      log "images: built gameday/nats:local from $ns"
    elif docker pull nats:2.10-alpine >/dev/null 2>&1; then
      docker tag nats:2.10-alpine gameday/nats:local
      log "images: pulled nats:2.10-alpine as gameday/nats:local"
    else
      die "images: gameday/nats:local (no nats-server binary and no registry: apt-get install nats-server)"
    fi
  fi
  provision_target_images
}

# The demo target system's images (examples/target-system): scripts/target-images.sh.
# shellcheck source=scripts/target-images.sh
source "$ROOT/scripts/target-images.sh"

file_is_static() { ! ldd "$1" >/dev/null 2>&1; }

# Prints the path of a Temporal CLI, building or downloading it into the cache when needed.
find_temporal_cli() {
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
    [ -x "$TEMPORAL_CLI_PATH" ] || die "temporal: TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable"
    echo "$TEMPORAL_CLI_PATH"; return
  fi
  if command -v temporal >/dev/null 2>&1; then command -v temporal; return; fi
  if [ -x "$CACHE/bin/temporal" ]; then echo "$CACHE/bin/temporal"; return; fi
  if command -v go >/dev/null 2>&1; then
    log "temporal: building the Temporal CLI $TEMPORAL_CLI_VERSION with go install (once; cached in $CACHE/bin)"
    if GOBIN="$CACHE/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" >"$STATE/temporal-build.log" 2>&1; then
      echo "$CACHE/bin/temporal"; return
    fi
    log "temporal: go install failed (see $STATE/temporal-build.log); trying the download"
  fi
  local url="https://temporal.download/cli/archive/latest?platform=linux&arch=amd64"
  if command -v curl >/dev/null 2>&1 && curl -fsSL --max-time 120 "$url" | tar -xz -C "$CACHE/bin" temporal 2>/dev/null; then
    echo "$CACHE/bin/temporal"; return
  fi
  die "temporal: no Temporal CLI (set TEMPORAL_CLI_PATH, put 'temporal' on PATH, or install Go so that it can be built)"
}

temporal_healthy() { "$1" operator cluster health --address "$TEMPORAL_HOSTPORT" 2>/dev/null | grep -q SERVING; }
# The HTTP API of the dev server (gameday run's way in; src/config.ts temporalHttpUrl): its port is open.
TEMPORAL_HTTP_PORT=$((TEMPORAL_PORT + 10))
temporal_http_healthy() { (exec 3<>"/dev/tcp/127.0.0.1/$TEMPORAL_HTTP_PORT") 2>/dev/null; }
# The pid of a dev server on this port that Gameday's provisioning started (its database under a
# .gameday folder); none for a dev server someone else started.
gameday_dev_server() {
  local pid
  for pid in $(pgrep -f "server start-dev" 2>/dev/null); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--port $TEMPORAL_PORT .*/\.gameday/temporal\.db" && { echo "$pid"; return 0; }
  done
  return 1
}
not_running() { ! kill -0 "$1" 2>/dev/null; }
# A Gameday dev server started with older flags: no HTTP API, or its database still journalled
# with a sync to disk on every commit (see the start below).
dev_server_outdated() {
  local cmd; cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)
  [[ $cmd != *"--http-port "* || $cmd != *"synchronous=normal"* ]]
}

# Search attributes Gameday keeps current on each run (the UI filters on them).
SEARCH_ATTRIBUTES=(GamedayExperimentId=Keyword GamedayStage=Keyword GamedayVerdict=Keyword GamedayTargets=KeywordList GamedayActiveFaults=KeywordList)

provision_temporal() {
  local cli; cli=$(find_temporal_cli)
  echo "$cli" >"$STATE/temporal-cli-path"
  local old
  if temporal_healthy "$cli" && old=$(gameday_dev_server) && dev_server_outdated "$old"; then
    # A Gameday dev server (this clone's or another's, by its .gameday database) started before it
    # had the HTTP API or the write-ahead log: started again here with them. Its runs are in the
    # database and carry on once it is back.
    log "temporal: restarting the dev server (pid $old) for its HTTP API on 127.0.0.1:$TEMPORAL_HTTP_PORT and its write-ahead log"
    kill "$old" 2>/dev/null || true
    wait_for 30 not_running "$old" || die "temporal: the dev server (pid $old) did not stop within 30 s"
  fi
  if temporal_healthy "$cli"; then
    log "temporal: server already answering on $TEMPORAL_HOSTPORT"
    temporal_http_healthy || log "temporal: no HTTP API on 127.0.0.1:$TEMPORAL_HTTP_PORT (a server not started here): gameday run uses gRPC"
    for sa in "${SEARCH_ATTRIBUTES[@]}"; do
      "$cli" operator search-attribute create --address "$TEMPORAL_HOSTPORT" --name "${sa%%=*}" --type "${sa##*=}" >/dev/null 2>&1 || true
    done
    return
  fi
  local args=(server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT"
    --db-filename "$STATE/temporal.db" --log-level warn
    # A write-ahead log, synced at its checkpoints rather than on every commit: each step of a run
    # is several commits, and a sync each cost a 10 s pause ~60-100 ms end to end (bench cli). A
    # commit still survives the server's own crash; the last ones may not survive the machine's.
    --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal
    # The HTTP API at the gRPC port + 10 (7243): \`gameday run\` starts and waits on runs through it,
    # without loading the gRPC client (src/config.ts, temporalHttpUrl).
    --http-port "$TEMPORAL_HTTP_PORT"
    # Eager activities (off by default in the dev server): an activity a worker schedules runs on
    # that worker from the workflow task's answer, without a round trip through the matcher.
    --dynamic-config-value system.enableActivityEagerExecution=true)
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  log "temporal: starting the dev server on $TEMPORAL_HOSTPORT (UI http://127.0.0.1:$TEMPORAL_UI_PORT, db $STATE/temporal.db)"
  # setsid: the server outlives this script and the shell that ran it.
  setsid nohup "$cli" "${args[@]}" >"$STATE/temporal.log" 2>&1 < /dev/null &
  echo $! >"$STATE/temporal.pid"
  wait_for 60 temporal_healthy "$cli" || die "temporal: the dev server did not become healthy within 60 s; see $STATE/temporal.log"
  log "temporal: server ready"
}

find_pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  return 1
}

# The results store (src/store) on this server: database `gameday`, created when missing, with every
# migration applied (idempotent; workers do the same at start). The migration code is compiled
# TypeScript: before the first build there is nothing to run it with yet.
migrate_results_store() {
  # GAMEDAY_RESULTS_URL, when set, names the database to migrate (another one on this server, say).
  local url="${GAMEDAY_RESULTS_URL:-postgres://postgres@127.0.0.1:$PG_PORT/gameday}"
  if [ ! -f "$ROOT/dist/src/store/migrate.js" ]; then
    log "postgres: results store not migrated: dist/ is missing (npm run build); workers migrate it at start"
    return
  fi
  node "$ROOT/scripts/migrate-results-store.js" "$url" || die "postgres: the results store's migrations on $url (see the line above)"
  log "postgres: results store ready ($url)"
}

provision_postgres() {
  local bin; bin=$(find_pg_bin) || { apt_install postgresql || true; bin=$(find_pg_bin) || die "postgres: no PostgreSQL server binaries (apt-get install postgresql)"; }
  local data="$STATE/postgres"
  if "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1; then
    log "postgres: already answering on 127.0.0.1:$PG_PORT"
    migrate_results_store
    return
  fi
  # PostgreSQL refuses to run as root: run it as the 'postgres' user when we are root.
  local run=()
  if is_root; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    run=(runuser -u postgres --)
    mkdir -p "$data"; chown postgres "$data"; chmod 700 "$data"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    "${run[@]}" "$bin/initdb" -D "$data" -A trust -U postgres >"$STATE/postgres-init.log" 2>&1 || die "postgres: initdb failed; see $STATE/postgres-init.log"
  fi
  "${run[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $PG_PORT -k $data -h 127.0.0.1" start >/dev/null \
    || die "postgres: pg_ctl start failed; see $data/server.log"
  wait_for 30 "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT" || die "postgres: not ready within 30 s; see $data/server.log"
  log "postgres: ready on 127.0.0.1:$PG_PORT"
  migrate_results_store
}

# docker-compose (Debian's 1.29), for examples/target-system/docker-compose.yml and its test.
provision_compose() {
  if command -v docker-compose >/dev/null 2>&1; then log "compose: docker-compose present"; return; fi
  log "compose: installing docker-compose"
  apt_install docker-compose || die "compose: docker-compose cannot be installed here (needs root and apt-get); install docker-compose 1.29 or later"
}

CHROMIUM=/usr/bin/chromium

# The headless browser test/integration/ui.test.ts drives the Temporal Web UI with.
provision_chromium() {
  if [ -x "$CHROMIUM" ]; then log "chromium: $CHROMIUM present"; return; fi
  log "chromium: installing chromium"
  apt_install chromium || die "chromium: $CHROMIUM is missing and cannot be installed here (needs root and apt-get); apt-get install chromium"
  [ -x "$CHROMIUM" ] || die "chromium: installed, but $CHROMIUM is not there; apt-get install chromium"
  log "chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
}

# The Temporal server v1.29.1 (server, sql tool, tdbg) and its schema, for the multi-process cluster.
provision_cluster() {
  bash "$ROOT/scripts/temporal-cluster.sh" >/dev/null || die "cluster: the Temporal server's binaries (see the lines above)"
}

pieces=("$@")
[ ${#pieces[@]} -gt 0 ] || pieces=(--only docker --only images --only compose --only temporal --only postgres --only chromium)
while [ ${#pieces[@]} -gt 0 ]; do
  case "${pieces[0]}" in
    --only) "provision_${pieces[1]}"; pieces=("${pieces[@]:2}") ;;
    *) die "arguments: unknown '${pieces[0]}' (use --only docker|images|compose|temporal|postgres|chromium|cluster)" ;;
  esac
done
