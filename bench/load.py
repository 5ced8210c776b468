"""HTTP load with locust (headless, CSV) against gunicorn on PostgreSQL + Redis, one scenario at a time.

Usage (after bench/dataset.py filled the database):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_ev_bench REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/load.py [--seconds 20] [--users 10] [--workers 3] [--port 8765] [--label 1M]

Starts gunicorn (DEBUG=0, throwaway SECRET_KEY, SECURE_SSL_REDIRECT=0, throttles raised through
THROTTLE_ANON / THROTTLE_TRACKING / THROTTLE_KEY) on a free port, writes the sample fixture (tracking pairs,
centers, API keys created here), then runs each scenario of bench/locustfile.py for ``--seconds`` with
``--users`` users and no think time, and stops gunicorn. The "bare" scenario is ``/healthz`` (JsonResponse
after ``SELECT 1``): the cheapest view on the same server, so ``bare_rps / rps`` says how far each endpoint is
from the ceiling the stack itself sets. Raw locust CSVs and summary.json go to ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(PY).parent
SCENARIOS = ["bare", "tracking", "nearest", "slots", "booking", "checkin_transitions", "device_registration"]
CLASSES = {
    "bare": "BareUser",
    "tracking": "TrackingUser",
    "nearest": "NearestUser",
    "slots": "SlotsUser",
    "booking": "BookingUser",
    "checkin_transitions": "CheckInUser",
    "device_registration": "DeviceRegistrationUser",
}
HIGH = "100000000/min"


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


def server_env() -> dict:
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        THROTTLE_ANON=HIGH,
        THROTTLE_TRACKING=HIGH,
        THROTTLE_KEY=HIGH,
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="servicehub.settings",
    )
    env.pop("TESTING", None)
    return env


def make_fixture(path: Path) -> dict:
    """Sample data and API keys, from the benchmark database (Django, in this process)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
    os.environ.setdefault("DEBUG", "1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from centers.models import ServiceCenter
    from partners.models import Partner
    from partners.services import api_key_create
    from warranty.models import DeviceModel

    with connection.cursor() as cur:
        cur.execute("SELECT setseed(0.42)")
        cur.execute(
            "SELECT t.service_no, right(c.phone, 4) FROM repairs_repairticket t JOIN repairs_customer c"
            " ON c.id = t.customer_id WHERE t.id IN (SELECT id FROM repairs_repairticket TABLESAMPLE SYSTEM (1)"
            " REPEATABLE (42) LIMIT 3000)"
        )
        tracking = cur.fetchall()
        cur.execute("SELECT count(*) FROM repairs_repairticket")
        tickets = cur.fetchone()[0]
    centers = ServiceCenter.objects.filter(active=True, kind__in=("service_center", "flagship")).order_by("code")
    points = [(float(c.lat), float(c.lng)) for c in centers[:2000]]
    booking = (
        [c.code for c in centers.filter(services__contains=["appointment"])[:300]]
        if connection.vendor == "postgresql"
        else []
    )
    user, _ = get_user_model().objects.get_or_create(
        username="bench-load", defaults={"is_staff": True, "is_superuser": True}
    )
    _key, staff_raw = api_key_create(user=user, scopes=["tickets:read", "tickets:write"], name="bench load")
    partner, _ = Partner.objects.get_or_create(name="Bench retailer")
    _pkey, partner_raw = api_key_create(partner=partner, scopes=["devices:write"], name="bench load")
    model = DeviceModel.objects.filter(category="phone", active=True).order_by("code").first()
    fixture = {
        "tickets_in_db": tickets,
        "tracking": tracking,
        "points": points,
        "booking_centers": booking,
        "desk_centers": [c.code for c in centers[:300]],
        "model": model.code,
        "staff_key": staff_raw,
        "partner_key": partner_raw,
        "transitions": ["start_diagnosis"],
    }
    path.write_text(json.dumps(fixture))
    connection.close()
    return fixture


def start_gunicorn(port: int, workers: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "servicehub.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--access-logfile",
            "-",
            "--access-logformat",
            "%(s)s %(r)s",
        ],
        cwd=ROOT,
        env=server_env(),
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"gunicorn did not start, see {log}")


def run_scenario(name: str, *, host: str, seconds: int, users: int, out: Path, fixture: Path, serial: int) -> list:
    prefix = out / name
    env = dict(os.environ, LOAD_FIXTURE=str(fixture), LOAD_SERIAL_START=str(serial))
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            CLASSES[name],
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--host",
            host,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "5",
        ],
        cwd=ROOT,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=open(f"{prefix}.log", "w"),
    )
    rows = []
    with open(f"{prefix}_stats.csv") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                continue
            n = int(row["Request Count"])
            rows.append(
                {
                    "scenario": name,
                    "endpoint": f"{row['Type']} {row['Name']}",
                    "requests": n,
                    "failures": int(row["Failure Count"]),
                    "error_rate": round(int(row["Failure Count"]) / n, 4) if n else None,
                    "rps": round(float(row["Requests/s"]), 1),
                    "p50_ms": float(row["50%"]),
                    "p95_ms": float(row["95%"]),
                    "p99_ms": float(row["99%"]),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--label", default="")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--out", default="/tmp/servicehub-bench/load")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL=postgres://.../sh_ev_bench and REDIS_URL=redis://127.0.0.1:6379/9")
    out = Path(args.out) / (args.label or time.strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    fixture_path = out / "fixture.json"
    fixture = make_fixture(fixture_path)
    port = free_port(args.port)
    proc = start_gunicorn(port, args.workers, out / "gunicorn.log")
    rows = []
    try:
        for i, name in enumerate(args.scenarios.split(",")):
            print(f"[{name}] {args.seconds}s x {args.users} users ...", file=sys.stderr, flush=True)
            rows += run_scenario(
                name,
                host=f"http://127.0.0.1:{port}",
                seconds=args.seconds,
                users=args.users,
                out=out,
                fixture=fixture_path,
                serial=(int(time.time()) % 10_000) * 100_000 + i * 10_000,
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    bare = next((r["rps"] for r in rows if r["scenario"] == "bare"), None)
    for r in rows:
        r["bare_rps_over_rps"] = round(bare / r["rps"], 2) if bare and r["rps"] else None
    server_5xx = sum(1 for line in open(out / "gunicorn.log") if line[:1] == "5" and line[:3].isdigit())
    summary = {
        "label": args.label,
        "tickets_in_db": fixture["tickets_in_db"],
        "seconds_per_scenario": args.seconds,
        "users": args.users,
        "gunicorn_workers": args.workers,
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "server_5xx_in_access_log": server_5xx,
        "rows": rows,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    print(
        "\n| endpoint | req | rps | p50 ms | p95 ms | p99 ms | errors | bare rps / rps |"
        "\n|---|---|---|---|---|---|---|---|"
    )
    for r in rows:
        print(
            f"| {r['endpoint']} | {r['requests']} | {r['rps']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{r['p99_ms']:.0f} | {r['error_rate']:.2%} | {r['bare_rps_over_rps']} |"
        )


if __name__ == "__main__":
    main()
