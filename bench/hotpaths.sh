#!/usr/bin/env bash
# One command for the side-by-side run of issue #17: our public hot paths, the bare view and the peer
# (django-helpdesk's public ticket view, installed from PyPI into its own venv), same gunicorn settings.
#
#   bench/hotpaths.sh                       # everything; builds the databases and the peer when missing
#   TEN_X=0 bench/hotpaths.sh               # skip the 10x database (225,231 sites, 1,000,000 tickets)
#   SECONDS_PER_ENDPOINT=15 SOAK_SECONDS=30 BENCH_PG=postgres://postgres@127.0.0.1:5432 bench/hotpaths.sh
#
# Databases (created, and FLUSHED when rebuilt): sh_hotpaths_1x, sh_hotpaths_10x, sh_hotpaths_peer.
# REBUILD=1 rebuilds them. Needs wrk (apt-get install wrk), PostgreSQL and Redis (REDIS_URL, default DB 9).
# Results: $OUT/result.json and $OUT/table.md (the table docs/performance.md quotes).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/9}
DIR=${BENCH_DIR:-/tmp/servicehub-bench}
OUT=${OUT:-$DIR/hotpaths/run-$(date -u +%Y%m%dT%H%M%SZ)}
TEN_X=${TEN_X:-1}
REBUILD=${REBUILD:-0}
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

has_tickets() {  # database exists and holds at least $2 tickets
  psql -tA "$PG/$1" -c "SELECT count(*) >= $2 FROM repairs_repairticket" 2>/dev/null | grep -q t
}
ensure_db() {
  psql -tA "$PG/postgres" -c "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1 \
    || psql -q "$PG/postgres" -c "CREATE DATABASE $1" >/dev/null
}

if [ "$REBUILD" = 1 ] || ! has_tickets sh_hotpaths_1x 100000; then
  ensure_db sh_hotpaths_1x
  echo "== building sh_hotpaths_1x (22,551 sites, 100,000 tickets)" >&2
  DATABASE_URL=$PG/sh_hotpaths_1x "$PY" bench/dataset.py --tickets 100000 --customers 100000 --devices 150000 \
    >"$OUT/dataset_1x.json" 2>"$OUT/dataset_1x.log"
fi
DB10=""
if [ "$TEN_X" = 1 ]; then
  if [ "$REBUILD" = 1 ] || ! has_tickets sh_hotpaths_10x 1000000; then
    ensure_db sh_hotpaths_10x
    echo "== building sh_hotpaths_10x (225,231 sites, 1,000,000 tickets)" >&2
    DATABASE_URL=$PG/sh_hotpaths_10x "$PY" bench/dataset.py --site-scale 10 --tickets 1000000 \
      >"$OUT/dataset_10x.json" 2>"$OUT/dataset_10x.log"
  fi
  DB10=$PG/sh_hotpaths_10x
fi
# A database built by an older checkout gets this checkout's tables (a missing table answers 500s, not data).
for db in sh_hotpaths_1x ${DB10:+sh_hotpaths_10x}; do
  DATABASE_URL=$PG/$db DEBUG=0 SECRET_KEY=migrate-only "$PY" manage.py migrate --noinput -v 0
done

# The peer: its own venv from PyPI and a generated project (bench/peer_helpdesk.py), 10,000 tickets
# with 4 public follow-ups each (our tracking page shows a 4-event timeline).
if [ ! -x "$DIR/peer-venv/bin/gunicorn" ]; then
  python3 -m venv "$DIR/peer-venv"
  "$DIR/peer-venv/bin/pip" install -q django-helpdesk gunicorn "psycopg[binary]"
fi
ensure_db sh_hotpaths_peer
"$DIR/peer-venv/bin/python" bench/peer_helpdesk.py setup --dir "$DIR/peer" --db "$PG/sh_hotpaths_peer" \
  --tickets 10000 --followups 4 2>>"$OUT/peer_setup.log"
"$DIR/peer-venv/bin/pip" list 2>/dev/null | grep -Ei '^(django|django-helpdesk|gunicorn) ' >"$OUT/peer_versions.txt"

# Production-like static files (the manifest storage needs them).
DEBUG=0 SECRET_KEY=collectstatic-only "$PY" manage.py collectstatic --noinput -v 0

"$PY" bench/hotpaths.py --db "$PG/sh_hotpaths_1x" ${DB10:+--db-10x "$DB10"} --peer-dir "$DIR/peer" \
  --peer-db "$PG/sh_hotpaths_peer" --seconds "${SECONDS_PER_ENDPOINT:-15}" --soak-seconds "${SOAK_SECONDS:-30}" \
  --out "$OUT"
