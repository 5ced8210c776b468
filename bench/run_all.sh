#!/usr/bin/env bash
# Run every benchmark in bench/ one after the other (`make bench`). PostgreSQL and Redis required.
#
#   BENCH_PG=postgres://postgres@127.0.0.1:5432   # server; each benchmark uses its own sh_ev_* / per-app DB
#   REDIS_URL=redis://127.0.0.1:6379/9            # the Redis DB the load/rush gunicorn uses
#   TICKETS=1000000 SECONDS_PER_SCENARIO=20 USERS=10 bench/run_all.sh
#
# Results: JSON on stdout per benchmark, raw locust CSVs under /tmp/servicehub-bench/, logs in $OUT.
# The databases named below are FLUSHED/recreated by the benchmarks: never point them at real data.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/9}
TICKETS=${TICKETS:-1000000}
SECS=${SECONDS_PER_SCENARIO:-20}
USERS=${USERS:-10}
OUT=${OUT:-/tmp/servicehub-bench/run-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"

step() {  # step NAME DB COMMAND...
  local name=$1 db=$2; shift 2
  echo "== $name ($(date -u +%H:%M:%S)) -> $OUT/$name.json" >&2
  DATABASE_URL="$PG/$db" "$@" >"$OUT/$name.json" 2>"$OUT/$name.log" || { echo "   FAILED: see $OUT/$name.log" >&2; return 1; }
}

# 1. The national data set at 10,000 tickets, load at that size; 500-customer booking rush.
step dataset_10k sh_ev_bench "$PY" bench/dataset.py --tickets 10000
step load_10k sh_ev_bench "$PY" bench/load.py --seconds "$SECS" --users "$USERS" --label 10k
step booking_rush sh_ev_bench "$PY" bench/booking_rush.py
# 2. Grow the same database to $TICKETS and load again: the growth ratio is load_1M / load_10k.
step dataset_grow sh_ev_bench "$PY" bench/dataset.py --grow --tickets "$TICKETS"
step load_large sh_ev_bench "$PY" bench/load.py --seconds "$SECS" --users "$USERS" --label large
# 3. The per-app benchmarks (each documented in docs/performance.md under its app's section).
step repairs_growth sh_ev_repairs_growth "$PY" bench/repairs_growth.py --large "$TICKETS"
step centers_nearest sh_ev_centers "$PY" bench/centers_nearest.py
step booking_contention sh_ev_booking env DEBUG=1 "$PY" bench/booking_contention.py
step loaners_checkout sh_ev_loaners "$PY" bench/loaners_checkout.py
step warranty_coverage sh_ev_warranty "$PY" bench/warranty_coverage.py
step partners_platform sh_ev_partners "$PY" bench/partners_platform.py
step service_days sh_ev_service_days "$PY" bench/service_days.py
step notifications_burst sh_ev_notifications "$PY" bench/notifications_burst.py
createdb -h 127.0.0.1 -U postgres sh_ev_ops 2>/dev/null || true
step ops_build sh_ev_ops env DEBUG=1 bash -c "$PY manage.py migrate -v 0 && $PY bench/ops_build.py"
step ops_dashboards sh_ev_ops env DEBUG=1 "$PY" bench/ops_dashboards.py
echo "all benchmarks done: $OUT" >&2
