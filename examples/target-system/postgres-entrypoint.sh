#!/bin/sh
# The entrypoint of gameday/postgres:local (PostgreSQL 15 from the machine's apt packages): creates
# the cluster on first start (trust authentication: a throwaway demo database), then runs the
# server in the foreground, listening on every address of the container.
set -e
PGDATA=/var/lib/postgresql/data
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  @PGBIN@/initdb -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C >/tmp/initdb.log 2>&1 || { cat /tmp/initdb.log; exit 1; }
  # initdb trusts only local connections; the demo's clients are other containers.
  echo 'host all all all trust' >>"$PGDATA/pg_hba.conf"
fi
exec @PGBIN@/postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
