#!/usr/bin/env bash
# The read-replica router against a REAL streaming standby on this machine (docs/scaling.md).
#
#   bench/replica_check.sh          # creates cluster "replica" (PostgreSQL 15, port 5433) from the primary,
#                                   # runs bench/replica_check.py, stops the standby again (KEEP=1 keeps it)
#
# What it changes on the primary: one pg_hba.conf line allowing replication connections from 127.0.0.1
# (trust, like the rest of this machine's local setup) and a configuration reload (no restart).
# The standby is a pg_basebackup -R copy (standby.signal + primary_conninfo), hot_standby on.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
VER=${PG_VERSION:-15}
PRIMARY=${PRIMARY_URL:-postgres://postgres@127.0.0.1:5432}
PORT=${REPLICA_PORT:-5433}
DB=${REPLICA_DB:-sh_hotpaths_replica}
HBA=$(psql -tA "$PRIMARY/postgres" -c "SHOW hba_file")

if ! grep -qE '^host\s+replication\s+all\s+127\.0\.0\.1/32' "$HBA"; then
  echo "host replication all 127.0.0.1/32 trust" >>"$HBA"
  psql -qtA "$PRIMARY/postgres" -c "SELECT pg_reload_conf()" >/dev/null
fi
psql -tA "$PRIMARY/postgres" -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql -q "$PRIMARY/postgres" -c "CREATE DATABASE $DB"

if ! pg_lsclusters -h | awk '{print $2}' | grep -qx replica; then
  pg_createcluster "$VER" replica --port "$PORT" >/dev/null
fi
DATA=/var/lib/postgresql/$VER/replica
if [ ! -f "$DATA/standby.signal" ]; then
  pg_ctlcluster "$VER" replica stop 2>/dev/null || true
  rm -rf "$DATA" && mkdir -p "$DATA" && chown postgres:postgres "$DATA" && chmod 700 "$DATA"
  echo "== pg_basebackup from the primary (streaming WAL) ..." >&2
  su postgres -c "pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D $DATA -R -X stream -c fast"
fi
# Same client authentication as the primary (Debian keeps it in /etc, outside the copied data directory).
cp "$HBA" "/etc/postgresql/$VER/replica/pg_hba.conf"
pg_ctlcluster "$VER" replica start 2>/dev/null || pg_ctlcluster "$VER" replica reload
for _ in $(seq 60); do
  psql -tA "postgres://postgres@127.0.0.1:$PORT/postgres" -c "SELECT pg_is_in_recovery()" 2>/dev/null | grep -q t && break
  sleep 1
done

status=0
DATABASE_URL=$PRIMARY/$DB DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:$PORT/$DB DEBUG=1 \
  "$PY" bench/replica_check.py || status=$?
if [ "${KEEP:-0}" != 1 ]; then pg_ctlcluster "$VER" replica stop; fi
exit $status
