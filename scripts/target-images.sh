# Sourced by scripts/provision.sh (uses its log, die, apt_install, import_rootfs, ROOT, CACHE, STATE).
# Builds the images of the demo target system (examples/target-system) from binaries on this
# machine, since no registry may be reachable:
#   gameday/target-app:local   node (/usr/bin/node and the libraries ldd lists), the app and its
#                              node_modules (pg, nats, opossum, ws: copied from the project's own node_modules)
#   gameday/postgres:local     the apt PostgreSQL 15 server, run as user postgres, trust auth
#   gameday/toxiproxy:local    Toxiproxy v2.12.0, built once with go install into $CACHE/bin
#   gameday/http-proxy:local   node and Gameday's HTTP fault proxy (dist/bundle/http-proxy.js, which
#                              npm run build makes), for the demo's scoring-proxy
# Each image carries the label gameday.source-hash: it is rebuilt when what went into it changes.

TARGET_APP_DIR="$ROOT/examples/target-system"
TOXIPROXY_VERSION=v2.12.0

# import_rootfs, then removes the untagged images earlier builds left (those no container uses).
import_replacing() { # import_replacing <image> <rootfs dir> [docker import -c args...]
  import_rootfs "$@"
  docker image prune -f --filter label=gameday.source-hash >/dev/null 2>&1 || true
}

image_hash() { docker image inspect -f '{{index .Config.Labels "gameday.source-hash"}}' "$1" 2>/dev/null || true; }

# Copies binaries and every library ldd lists for them into a root filesystem, at the same paths.
copy_with_libs() { # copy_with_libs <rootfs> <file...>
  local dir=$1 f lib; shift
  for f in "$@"; do
    mkdir -p "$dir$(dirname "$f")"; cp -L "$f" "$dir$f"
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
      [ -e "$dir$lib" ] || { mkdir -p "$dir$(dirname "$lib")"; cp -L "$lib" "$dir$lib"; }
    done
  done
}

# A static busybox in a rootfs, for the entrypoint scripts (sh).
add_busybox() { # add_busybox <rootfs>
  local bb=/bin/busybox
  [ -x "$bb" ] && ! ldd "$bb" >/dev/null 2>&1 || apt_install busybox-static || die "images: busybox-static (apt-get install busybox-static)"
  mkdir -p "$1/bin"; cp "$bb" "$1/bin/busybox"
  local c; for c in sh cat mkdir chown sleep; do ln -sf busybox "$1/bin/$c"; done
}

build_target_app_image() {
  [ -d "$ROOT/node_modules/pg" ] && [ -d "$ROOT/node_modules/nats" ] && [ -d "$ROOT/node_modules/opossum" ] && [ -d "$ROOT/node_modules/ws" ] || die "images: gameday/target-app:local needs the project's node_modules (run npm ci first)"
  local hash; hash=$(cd "$TARGET_APP_DIR" && cat package.json ./*.js "$ROOT/scripts/target-images.sh" "$ROOT/node_modules/pg/package.json" "$ROOT/node_modules/nats/package.json" "$ROOT/node_modules/opossum/package.json" "$ROOT/node_modules/ws/package.json" | cat - <(node --version) | sha256sum | cut -c1-16)
  if [ "$(image_hash gameday/target-app:local)" = "$hash" ]; then log "images: gameday/target-app:local up to date ($hash)"; return; fi
  local dir; dir=$(mktemp -d)
  copy_with_libs "$dir" "$(readlink -f "$(command -v node)")"
  [ -e "$dir/usr/bin/node" ] || { mkdir -p "$dir/usr/bin"; ln -s "$(readlink -f "$(command -v node)")" "$dir/usr/bin/node"; }
  mkdir -p "$dir/app/node_modules" "$dir/tmp"
  cp "$TARGET_APP_DIR"/package.json "$TARGET_APP_DIR"/*.js "$dir/app/"
  # pg, nats, opossum (the resilient build's circuit breaker) and ws (the dashboard feed) with their dependencies, resolved
  # from the project's node_modules.
  local pkg; for pkg in $(cd "$ROOT" && node -e '
    const fs = require("node:fs");
    const seen = new Set();
    const visit = (name) => {
      const file = `node_modules/${name}/package.json`;
      if (seen.has(name) || !fs.existsSync(file)) return;
      seen.add(name);
      Object.keys(JSON.parse(fs.readFileSync(file, "utf8")).dependencies ?? {}).forEach(visit);
    };
    ["pg", "nats", "opossum", "ws"].forEach(visit); console.log([...seen].join("\n"));'); do
    mkdir -p "$dir/app/node_modules/$(dirname "$pkg")"; cp -r "$ROOT/node_modules/$pkg" "$dir/app/node_modules/$pkg"
  done
  import_replacing gameday/target-app:local "$dir" -c 'WORKDIR /app' -c 'ENTRYPOINT ["/usr/bin/node"]' -c 'CMD ["api.js"]' -c "LABEL gameday.source-hash=$hash"
  rm -rf "$dir"
  log "images: built gameday/target-app:local ($hash)"
}

build_postgres_image() {
  local bin; bin=$(find_pg_bin) || { apt_install postgresql || true; bin=$(find_pg_bin) || die "images: gameday/postgres:local needs the PostgreSQL server binaries (apt-get install postgresql)"; }
  local pg; pg=$(dirname "$bin")
  local version; version=$(basename "$pg")
  local hash; hash=$("$bin/postgres" --version | cat - "$TARGET_APP_DIR/postgres-entrypoint.sh" | sha256sum | cut -c1-16)
  if [ "$(image_hash gameday/postgres:local)" = "$hash" ]; then log "images: gameday/postgres:local up to date ($hash)"; return; fi
  local dir; dir=$(mktemp -d)
  copy_with_libs "$dir" "$pg"/bin/* "$pg"/lib/*.so
  mkdir -p "$dir/usr/share/postgresql" "$dir/usr/share/zoneinfo" "$dir/etc" "$dir/var/lib/postgresql" "$dir/var/run/postgresql" "$dir/tmp"
  cp -r "/usr/share/postgresql/$version" "$dir/usr/share/postgresql/"
  cp -r /usr/share/zoneinfo/. "$dir/usr/share/zoneinfo/"
  add_busybox "$dir"
  printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh\n' >"$dir/etc/passwd"
  printf 'root:x:0:\npostgres:x:999:\n' >"$dir/etc/group"
  chown -R 999:999 "$dir/var/lib/postgresql" "$dir/var/run/postgresql"
  chmod 1777 "$dir/tmp"
  sed "s#@PGBIN@#$bin#" "$TARGET_APP_DIR/postgres-entrypoint.sh" >"$dir/entrypoint.sh"; chmod +x "$dir/entrypoint.sh"
  import_replacing gameday/postgres:local "$dir" -c 'USER postgres' -c 'ENTRYPOINT ["/entrypoint.sh"]' -c "LABEL gameday.source-hash=$hash"
  rm -rf "$dir"
  log "images: built gameday/postgres:local from $bin ($hash)"
}

find_toxiproxy() {
  if [ -x "$CACHE/bin/toxiproxy-server" ]; then echo "$CACHE/bin/toxiproxy-server"; return; fi
  # go install names the binary after its package directory (`server`): give it a name of its own.
  if [ -x "$CACHE/bin/server" ] && "$CACHE/bin/server" -version 2>&1 | grep -q toxiproxy; then
    mv "$CACHE/bin/server" "$CACHE/bin/toxiproxy-server"; echo "$CACHE/bin/toxiproxy-server"; return
  fi
  command -v go >/dev/null 2>&1 || die "images: gameday/toxiproxy:local needs Go to build Toxiproxy (or put the server binary at $CACHE/bin/toxiproxy-server)"
  log "images: building Toxiproxy $TOXIPROXY_VERSION with go install (once; cached in $CACHE/bin)"
  GOBIN="$CACHE/bin" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" >"$STATE/toxiproxy-build.log" 2>&1 \
    || die "images: go install of Toxiproxy failed; see $STATE/toxiproxy-build.log"
  mv "$CACHE/bin/server" "$CACHE/bin/toxiproxy-server"
  echo "$CACHE/bin/toxiproxy-server"
}

build_toxiproxy_image() {
  local bin; bin=$(find_toxiproxy)
  local hash; hash=$(sha256sum <"$bin" | cut -c1-16)
  if [ "$(image_hash gameday/toxiproxy:local)" = "$hash" ]; then log "images: gameday/toxiproxy:local up to date ($hash)"; return; fi
  local dir; dir=$(mktemp -d)
  copy_with_libs "$dir" "$bin"
  mv "$dir$bin" "$dir/toxiproxy"
  mkdir -p "$dir/tmp"
  import_replacing gameday/toxiproxy:local "$dir" -c 'ENTRYPOINT ["/toxiproxy"]' -c 'CMD ["-host=0.0.0.0"]' -c "LABEL gameday.source-hash=$hash"
  rm -rf "$dir"
  log "images: built gameday/toxiproxy:local ($hash)"
}

build_http_proxy_image() {
  local bundle="$ROOT/dist/bundle/http-proxy.js"
  [ -f "$bundle" ] || die "images: gameday/http-proxy:local needs $bundle (run npm run build first)"
  local hash; hash=$(cat "$bundle" "$ROOT/scripts/target-images.sh" | cat - <(node --version) | sha256sum | cut -c1-16)
  if [ "$(image_hash gameday/http-proxy:local)" = "$hash" ]; then log "images: gameday/http-proxy:local up to date ($hash)"; return; fi
  local dir; dir=$(mktemp -d)
  copy_with_libs "$dir" "$(readlink -f "$(command -v node)")"
  [ -e "$dir/usr/bin/node" ] || { mkdir -p "$dir/usr/bin"; ln -s "$(readlink -f "$(command -v node)")" "$dir/usr/bin/node"; }
  mkdir -p "$dir/app" "$dir/tmp"
  cp "$bundle" "$dir/app/http-proxy.js"
  import_replacing gameday/http-proxy:local "$dir" -c 'WORKDIR /app' -c 'ENTRYPOINT ["/usr/bin/node", "/app/http-proxy.js"]' -c "LABEL gameday.source-hash=$hash"
  rm -rf "$dir"
  log "images: built gameday/http-proxy:local ($hash)"
}

provision_target_images() {
  build_target_app_image
  build_postgres_image
  build_toxiproxy_image
  build_http_proxy_image
}
