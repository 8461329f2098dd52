#!/usr/bin/env bash
# Installs (Debian packages) and starts PostgreSQL 15 and Redis on loopback for the PostgreSQL +
# Redis half of the store tests. Idempotent; run as root. Exports nothing: afterwards use
#   export WARDEN_TEST_DATABASE_URL=postgres://warden:warden@127.0.0.1:5432/warden
#   export WARDEN_TEST_REDIS_URL=redis://127.0.0.1:6379
set -euo pipefail

PG_VERSION=15
PG_PASSWORD="${WARDEN_PG_PASSWORD:-warden}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! command -v pg_ctlcluster >/dev/null || [ ! -x "/usr/lib/postgresql/${PG_VERSION}/bin/postgres" ] || ! command -v redis-server >/dev/null; then
  echo "ci-services: installing postgresql and redis-server"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql redis-server >/dev/null
fi

# PostgreSQL: the Debian cluster, listening on loopback only.
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^${PG_VERSION} main$"; then
  $SUDO pg_createcluster "${PG_VERSION}" main >/dev/null
fi
if ! pg_lsclusters -h | grep -q "^${PG_VERSION} *main .*online"; then
  # Debian clusters listen on localhost only by default.
  $SUDO pg_ctlcluster "${PG_VERSION}" main start || $SUDO service postgresql start
fi
for _ in $(seq 1 50); do
  if $SUDO -u postgres psql -qtAc 'SELECT 1' >/dev/null 2>&1 || su postgres -c "psql -qtAc 'SELECT 1'" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
psql_admin() { if [ -n "$SUDO" ]; then sudo -u postgres psql -v ON_ERROR_STOP=1 -qtA "$@"; else su postgres -c "psql -v ON_ERROR_STOP=1 -qtA $(printf '%q ' "$@")"; fi; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'warden'")" != "1" ]; then
  psql_admin -c "CREATE ROLE warden LOGIN PASSWORD '${PG_PASSWORD}'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'warden'")" != "1" ]; then
  psql_admin -c "CREATE DATABASE warden OWNER warden"
fi

# Redis: loopback, no persistence needed (it holds only counts and notifications).
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
PGPASSWORD="${PG_PASSWORD}" psql -h 127.0.0.1 -U warden -d warden -qtAc 'SELECT 1' >/dev/null
echo "ci-services: PostgreSQL ${PG_VERSION} on 127.0.0.1:5432 (db/role warden) and Redis on 127.0.0.1:6379 are up"
