#!/usr/bin/env bash
# Run every benchmark in bench/ one after the other (`make bench`). PostgreSQL and Redis required.
#
#   BENCH_PG=postgres://postgres@127.0.0.1:5432   # server; each benchmark uses its own sh_ev_* database(s)
#   REDIS_URL=redis://127.0.0.1:6379/9            # the Redis DB the load/rush gunicorn and the burst worker use
#   TICKETS=1000000 SECONDS_PER_SCENARIO=20 USERS=10 bench/run_all.sh
#   ONLY="load_10k growth" bench/run_all.sh        # just these steps (names as printed)
#
# Results: one JSON per step in $OUT (stdout of the step; its stderr in <step>.log), raw locust CSVs in
# $OUT/load/<label>/. A failed step is reported and the run goes on; the exit status says whether all held.
# Every database named sh_ev_* below (and their _suffix scratch databases) is DROPPED or FLUSHED.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/9}
TICKETS=${TICKETS:-1000000}
SECS=${SECONDS_PER_SCENARIO:-20}
USERS=${USERS:-10}
OUT=${OUT:-/tmp/servicehub-bench/run-$(date -u +%Y%m%dT%H%M%SZ)}
ONLY=${ONLY:-}
mkdir -p "$OUT"
failed=()

step() {  # step NAME DB COMMAND...
  local name=$1 db=$2; shift 2
  if [ -n "$ONLY" ] && [[ " $ONLY " != *" $name "* ]]; then return 0; fi
  local t0=$SECONDS
  ensure_db "$db"
  echo "== $name ($(date -u +%H:%M:%S)) -> $OUT/$name.json" >&2
  if DATABASE_URL="$PG/$db" "$@" >"$OUT/$name.json" 2>"$OUT/$name.log"; then
    echo "   ok in $((SECONDS - t0)) s" >&2
  else
    echo "   FAILED after $((SECONDS - t0)) s: see $OUT/$name.log" >&2
    failed+=("$name")
  fi
}

ensure_db() {  # the benchmarks migrate and flush their database, but some do not create it
  psql -tA "$PG/postgres" -c "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1 \
    || psql -q "$PG/postgres" -c "CREATE DATABASE $1" >/dev/null
}

fresh_db() {  # drop and create an empty database (the ops builder refuses a database that has tickets)
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}

{
  echo "started $(date -u +%FT%TZ); $(uname -srm); $(nproc) CPUs; $(free -g | awk '/Mem:/{print $2}') GiB"
  psql -tA "$PG/postgres" -c "SELECT version()"
  redis-cli -u "$REDIS_URL" INFO server | grep redis_version
  echo "steps: ${ONLY:-all}; TICKETS=$TICKETS SECONDS_PER_SCENARIO=$SECS USERS=$USERS; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$OUT/machine.txt" 2>&1

# 1. The national data set at 10,000 tickets, load at that size; 500-customer booking rush.
step dataset_10k sh_ev_bench "$PY" bench/dataset.py --tickets 10000
step load_10k sh_ev_bench "$PY" bench/load.py --seconds "$SECS" --users "$USERS" --label 10k --out "$OUT/load"
step booking_rush sh_ev_bench "$PY" bench/booking_rush.py
# 2. Grow the same database to $TICKETS and load again; the growth step compares the two loads.
step dataset_grow sh_ev_bench "$PY" bench/dataset.py --grow --tickets "$TICKETS"
step load_large sh_ev_bench "$PY" bench/load.py --seconds "$SECS" --users "$USERS" --label large --out "$OUT/load"
step growth sh_ev_bench "$PY" bench/growth.py "$OUT/load/10k" "$OUT/load/large"
# 3. The per-app benchmarks (each documented in docs/performance.md under its app's section).
step repairs_growth sh_ev_repairs_growth "$PY" bench/repairs_growth.py --large "$TICKETS"
step centers_nearest sh_ev_centers "$PY" bench/centers_nearest.py
step booking_contention sh_ev_booking env DEBUG=1 "$PY" bench/booking_contention.py
step loaners_checkout sh_ev_loaners "$PY" bench/loaners_checkout.py
step warranty_coverage sh_ev_warranty "$PY" bench/warranty_coverage.py
step partners_platform sh_ev_partners "$PY" bench/partners_platform.py
step service_days sh_ev_service_days "$PY" bench/service_days.py
step notifications_burst sh_ev_notifications "$PY" bench/notifications_burst.py
# 4. Operations: the dashboards on $TICKETS tickets with full timelines (a database of its own, rebuilt).
if [ -z "$ONLY" ] || [[ " $ONLY " == *" ops_build "* ]]; then fresh_db sh_ev_ops; fi
step ops_build sh_ev_ops env DEBUG=1 bash -c "$PY manage.py migrate -v 0 && $PY bench/ops_build.py --tickets $TICKETS"
step ops_dashboards sh_ev_ops env DEBUG=1 "$PY" bench/ops_dashboards.py --runs 5 --figures

if [ ${#failed[@]} -gt 0 ]; then
  echo "done: $OUT -- FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all benchmarks done: $OUT" >&2
