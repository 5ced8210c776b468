"""Side-by-side throughput of the public hot paths, the bare view and the peer (issue #17).

One run, same machine, same gunicorn settings for everyone (``-w 2 --threads 4``, gthread), DEBUG off,
PostgreSQL, Redis as the cache, static files collected, wrk ``-t2 -c16`` for ``--seconds`` per
endpoint, every request from a different client address behind one proxy (NUM_PROXIES=1 and a random
``X-Forwarded-For``, bench/wrk_paths.lua) so no throttle is hit; throttles stay at their defaults.

    bench/hotpaths.sh                      # builds what is missing, then this script; see there for knobs
    .venv/bin/python bench/hotpaths.py --db postgres://postgres@127.0.0.1:5432/sh_hotpaths_1x \
        [--db-10x postgres://.../sh_hotpaths_10x] [--peer-dir /tmp/servicehub-bench/peer] [--seconds 15]

For each database (1x: 22,551 sites and 100,000 tickets; 10x: 225,231 sites and 1,000,000 tickets)
it starts our gunicorn, measures ``/healthz`` (the bare view) and then every endpoint, each followed by the
bare view again, so that an endpoint's ratio is to the bare runs either side of it; beside requests/s it
reads the server's CPU per request (the gunicorn processes and the PostgreSQL backends of its database, from
/proc: a figure other programs on the machine move far less than they move requests/s). Then
the board soak: 2,400 boards polling every 10 s = 240 requests/s at a fixed rate (open loop,
latency counted from the scheduled send time), with a ticket change in the middle whose
visibility on the next poll is checked. The peer (django-helpdesk's public ticket view, PyPI, its
own venv and database, bench/peer_helpdesk.py) runs on its own gunicorn with the same settings.
Prints one JSON document (and writes it plus a markdown table to ``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = Path(sys.executable)
BIN = PY.parent
GUNICORN_ARGS = ["-w", "2", "--threads", "4", "-k", "gthread", "--timeout", "60", "--backlog", "2048"]

# Goals from issue #17 (ratio to the bare view's requests/s in the same run).
GOALS = {
    "tracking_api": 0.5,
    "tracking_page": 0.3,
    "tracking_page_notified": 0.3,
    "center_detail_api": 0.4,
    "center_page": 0.4,
    "nearest_10": 0.4,
    "home": 0.4,
    "centers_text_search": 0.3,
    "board_body": 0.5,
    "board_page": 0.5,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, log: Path) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited, see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer, see {log}")


def our_env(db: str, redis: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db,
        REDIS_URL=redis,
        CACHE_KEY_PREFIX=f"bench-{secrets.token_hex(4)}",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        NUM_PROXIES="1",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="servicehub.settings",
        CELERY_QUEUE="bench-nobody",
    )
    env.pop("TESTING", None)
    env.pop("DATABASE_REPLICA_URL", None)
    return env


def start(cmd: list, cwd: Path, env: dict, log: Path, port: int, probe: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        cmd + ["-b", f"127.0.0.1:{port}"],
        cwd=cwd,
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_http(f"http://127.0.0.1:{port}{probe}", proc, log)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def prime(port: int, paths: list[str]) -> None:
    """Request every distinct path once (8 at a time): a running site's cache is warm; TTL is 10 min."""
    from concurrent.futures import ThreadPoolExecutor

    def get(path):
        try:
            urllib.request.urlopen(
                urllib.request.Request(
                    f"http://127.0.0.1:{port}{path}",
                    headers={"X-Forwarded-For": f"127.9.{random.randint(0, 255)}.{random.randint(1, 254)}"},
                ),
                timeout=30,
            ).read()
        except OSError:
            pass

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(get, sorted(set(paths))))


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """CPU seconds of a process and of its children that have ended (utime, stime, cutime, cstime)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / _TICK


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def _tree_cpu(pid: int) -> float:
    """A process tree's CPU seconds: the root with its ended children, and every live descendant."""
    total, stack = 0.0, [pid]
    while stack:
        p = stack.pop()
        total += _proc_cpu(p)
        stack += _children(p)
    return total


def _backends_cpu(db_name: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to ``db_name`` (the server runs on this machine)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            cmd = stat.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmd.startswith("postgres: ") and f" {db_name} " in cmd:
            pid = int(stat.parent.name)
            found[pid] = _proc_cpu(pid)
    return found


class ServerCPU:
    """What serving a run cost the server side, in CPU seconds: the gunicorn tree and the PostgreSQL backends of
    its database (Redis is left out: one process shared with the rest of the machine). Unlike requests/s, it does
    not move when another program takes the cores, so ``bare_cpu / endpoint_cpu`` per request is the ratio this
    machine's noise leaves alone (wrk's own CPU, the same for every request, is not in it)."""

    def __init__(self, server_pid: int, db_name: str):
        self.server_pid, self.db_name = server_pid, db_name

    def __enter__(self):
        self.t0, self.pg0 = _tree_cpu(self.server_pid), _backends_cpu(self.db_name)
        return self

    def __exit__(self, *exc):
        pg1 = _backends_cpu(self.db_name)
        self.app = _tree_cpu(self.server_pid) - self.t0
        # A backend that ended during the run took its CPU with it; one that began counts from zero.
        self.db = sum(v - self.pg0.get(pid, 0.0) for pid, v in pg1.items())


def wrk(port: int, paths: list[str], seconds: int, out: Path, name: str, cpu: tuple[int, str] | None = None) -> dict:
    # What a running site keeps warm (10-minute TTLs, per center / directory version): every center's page and
    # board, every region's search answer, every center's rendered row and calendar (nearest: the positions
    # are new each time, the centers around them are not).
    primed = ("center_detail_api", "center_page", "board_body", "board_page", "centers_text_search", "nearest_10")
    if name.split("-", 1)[-1] in primed:
        prime(port, paths)
    pfile = out / f"{name}.paths"
    pfile.write_text("\n".join(paths) + "\n")
    warm = subprocess.run(
        ["wrk", "-t2", "-c16", "-d3s", "-s", str(ROOT / "bench" / "wrk_paths.lua"), f"http://127.0.0.1:{port}"],
        env=dict(os.environ, WRK_PATHS=str(pfile)),
        capture_output=True,
        text=True,
    )
    del warm
    meter = ServerCPU(*cpu) if cpu else None
    if meter:
        meter.__enter__()
    run = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c16",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "wrk_paths.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env=dict(os.environ, WRK_PATHS=str(pfile)),
        capture_output=True,
        text=True,
    )
    if meter:
        meter.__exit__(None, None, None)
    (out / f"{name}.wrk.txt").write_text(run.stdout + run.stderr)
    m = re.search(r"WRK_JSON (\{.*\})", run.stdout)
    if not m:
        return {"error": run.stdout[-500:] + run.stderr[-500:]}
    result = json.loads(m.group(1))
    if meter and result.get("requests"):
        result["app_cpu_ms"] = round(1000 * meter.app / result["requests"], 3)
        result["db_cpu_ms"] = round(1000 * meter.db / result["requests"], 3)
    return result


def sample(db: str) -> dict:
    """Paths to request, drawn from the database (plain SQL: no Django in this process)."""
    import psycopg2

    rng = random.Random(20180301)
    conn = psycopg2.connect(db)
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT t.service_no, right(c.phone, 4) FROM repairs_repairticket t JOIN repairs_customer c"
            " ON c.id = t.customer_id WHERE t.id IN (SELECT id FROM repairs_repairticket TABLESAMPLE SYSTEM (1)"
            " REPEATABLE (42) LIMIT 2000)"
        )
        tracking = cur.fetchall()
        # An SMS wave's tickets: their customers were sent the page's link, which warmed it (web.track_warm).
        # Another sample than the cold one, so neither warms the other.
        cur.execute(
            "SELECT t.id, t.service_no, right(c.phone, 4) FROM repairs_repairticket t JOIN repairs_customer c"
            " ON c.id = t.customer_id WHERE t.id IN (SELECT id FROM repairs_repairticket TABLESAMPLE SYSTEM (1)"
            " REPEATABLE (43) LIMIT 2000) AND t.service_no NOT IN %s",
            [tuple(no for no, _d in tracking) or ("",)],
        )
        notified = cur.fetchall()
        cur.execute(
            "SELECT code, lat, lng FROM centers_servicecenter WHERE active AND kind IN"
            " ('service_center', 'flagship') ORDER BY code"
        )
        centers = cur.fetchall()
        cur.execute("SELECT name FROM centers_region WHERE level = 'county' AND NOT is_placeholder ORDER BY adcode")
        counties = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT count(*) FROM centers_servicecenter")
        sites = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM repairs_repairticket")
        tickets = cur.fetchone()[0]
        # Boards with people on them: centers with the most open tickets first.
        cur.execute(
            "SELECT c.code FROM repairs_repairticket t JOIN centers_servicecenter c ON c.id = t.center_id"
            " WHERE t.status IN ('received','diagnosing','awaiting_approval','repairing','awaiting_parts',"
            "'quality_check','ready') GROUP BY c.code ORDER BY count(*) DESC LIMIT 2400"
        )
        busy = [r[0] for r in cur.fetchall()]
        cur.execute(
            "SELECT c.code FROM repairs_repairticket t JOIN centers_servicecenter c ON c.id = t.center_id"
            " WHERE t.status IN ('received', 'diagnosing', 'awaiting_approval', 'repairing', 'ready')"
            " ORDER BY t.id LIMIT 1"
        )
        with_received = (cur.fetchone() or [None])[0]
    conn.close()
    codes = [c[0] for c in centers]
    board_codes = (busy + [c for c in codes if c not in set(busy)])[:2400]
    q = lambda s: urllib.request.quote(s)  # noqa: E731
    paths = {
        "bare": ["/healthz"],
        "tracking_api": [f"/api/v1/track/{no}/?phone_last4={d}" for no, d in tracking],
        "tracking_page": [f"/track/{no}/?phone_last4={d}" for no, d in tracking],
        "tracking_page_notified": [f"/track/{no}/?phone_last4={d}" for _id, no, d in notified],
        "center_detail_api": [f"/api/v1/centers/{c}/" for c in rng.sample(codes, min(500, len(codes)))],
        "center_page": [f"/centers/{c}/" for c in rng.sample(codes, min(500, len(codes)))],
        "nearest_10": [
            f"/api/v1/centers/?near={lat + rng.uniform(-0.05, 0.05):.4f},{lng + rng.uniform(-0.05, 0.05):.4f}"
            f"&page_size=10"
            for _c, lat, lng in rng.sample(centers, min(2000, len(centers)))
        ],
        "home": ["/"],
        "centers_text_search": [f"/centers/?q={q(n)}" for n in rng.sample(counties, min(1000, len(counties)))],
        "board_body": [f"/board/{c}/body/" for c in board_codes],
        "board_page": [f"/board/{c}/" for c in board_codes],
    }
    return {
        "paths": paths,
        "sites": sites,
        "tickets": tickets,
        "board_codes": board_codes,
        "notified_ids": [i for i, _no, _d in notified],
        "board_with_received": with_received,
    }


async def _fixed_rate(port: int, paths: list[str], rate: float, seconds: float, conns: int) -> dict:
    """Open-loop load: request i is due at start + i/rate; latency counts from that due time."""
    queue: asyncio.Queue = asyncio.Queue()
    latencies: list[float] = []
    errors = {"status": 0, "socket": 0}
    start = time.perf_counter() + 0.5
    total = int(rate * seconds)

    async def producer():
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((due, paths[i % len(paths)]))
        for _ in range(conns):
            queue.put_nowait(None)

    async def worker(n: int):
        reader = writer = None
        while True:
            item = await queue.get()
            if item is None:
                break
            due, path = item
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                ip = f"127.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
                writer.write(
                    (
                        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: {ip}\r\n"
                        "Accept-Encoding: gzip\r\nHX-Request: true\r\n\r\n"
                    ).encode()
                )
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                await reader.readexactly(length)
                if status >= 400:
                    errors["status"] += 1
                if b"connection: close" in head.lower():
                    writer.close()
                    reader = writer = None
            except (OSError, asyncio.IncompleteReadError, AttributeError, ValueError):
                errors["socket"] += 1
                reader = writer = None
                continue
            latencies.append((time.perf_counter() - due) * 1000)

    await asyncio.gather(producer(), *(worker(n) for n in range(conns)))
    latencies.sort()
    pct = lambda p: round(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))], 1) if latencies else None  # noqa: E731
    elapsed = time.perf_counter() - start
    return {
        "target_rps": rate,
        "sent": total,
        "answered": len(latencies),
        "achieved_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "errors": errors,
    }


def board_change_visibility(port: int, db: str, code: str) -> dict:
    """Move a ticket on board ``code`` to quality check (as a transition does: status and updated_at)
    and check that the very next poll shows it, although the board was just served from the cache."""
    import psycopg2

    url = f"http://127.0.0.1:{port}/board/{code}/body/"
    count = lambda html: int(re.search(r'id="col-quality_check">[^<]*<span class="count">(\d+)', html).group(1))  # noqa: E731
    conn = psycopg2.connect(db)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "SELECT t.id FROM repairs_repairticket t JOIN centers_servicecenter c ON c.id = t.center_id"
            " WHERE c.code = %s AND t.status IN ('received', 'diagnosing', 'awaiting_approval', 'repairing', 'ready')"
            " ORDER BY t.id LIMIT 1",
            [code],
        )
        row = cur.fetchone()
        if row is None:
            return {"skipped": "no open ticket on that board"}
        urllib.request.urlopen(url).read()
        before = count(urllib.request.urlopen(url).read().decode())  # served from the cache
        changed_at = time.perf_counter()
        cur.execute("SELECT status FROM repairs_repairticket WHERE id = %s", row)
        old_status = cur.fetchone()[0]
        cur.execute("UPDATE repairs_repairticket SET status = 'quality_check', updated_at = now() WHERE id = %s", row)
        after = count(urllib.request.urlopen(url).read().decode())
        seen_ms = (time.perf_counter() - changed_at) * 1000
        cur.execute(
            "UPDATE repairs_repairticket SET status = %s, updated_at = now() WHERE id = %s", [old_status, row[0]]
        )
    conn.close()
    return {
        "center": code,
        "quality_check_before": before,
        "quality_check_on_next_poll": after,
        "visible_on_next_poll": after == before + 1,
        "write_to_answer_ms": round(seen_ms, 1),
    }


def measure_ours(
    db: str, redis: str, seconds: int, out: Path, label: str, soak_seconds: int, only: frozenset = frozenset()
) -> dict:
    data = sample(db)
    if only:
        data["paths"] = {k: v for k, v in data["paths"].items() if k in only or k in ("bare", "board_body")}
    port = free_port()
    log = out / f"gunicorn-{label}.log"
    env = our_env(db, redis)  # one cache key prefix for the server and the warm (the notification worker's part)
    proc = start([str(BIN / "gunicorn"), "servicehub.wsgi", *GUNICORN_ARGS], ROOT, env, log, port, "/healthz")
    results = {"sites": data["sites"], "tickets": data["tickets"], "endpoints": {}, "bare_rounds": []}
    cpu = (proc.pid, db.rsplit("/", 1)[-1])
    try:
        # The bare view again after every endpoint: each endpoint's ratio is to the bare runs either side of it
        # (the machine's speed drifts within a run), and the server's CPU per request beside requests/s.
        bare = data["paths"]["bare"]
        results["bare_rounds"].append(wrk(port, bare, seconds, out, f"{label}-bare-0", cpu))
        for name, paths in data["paths"].items():
            if name == "bare" or (only and name not in only):
                continue
            print(f"  {label} {name} ...", file=sys.stderr, flush=True)
            if name == "tracking_page_notified":
                results["notified_warm"] = warm_notified(env, data["notified_ids"], out / f"{label}-warm.log")
            results["endpoints"][name] = wrk(port, paths, seconds, out, f"{label}-{name}", cpu)
            after = wrk(port, bare, seconds, out, f"{label}-bare-{len(results['bare_rounds'])}", cpu)
            results["bare_rounds"].append(after)
            results["endpoints"][name]["bare_beside"] = _bare_beside(results["bare_rounds"][-2:])
        results["endpoints"] = {"bare": _bare_beside(results["bare_rounds"]), **results["endpoints"]}
        bodies = data["paths"]["board_body"]
        print(f"  {label} board soak (240 req/s for {soak_seconds} s) ...", file=sys.stderr, flush=True)
        results["board_soak"] = asyncio.run(_fixed_rate(port, bodies, 240.0, soak_seconds, 64))
        results["board_change"] = board_change_visibility(
            port, db, data["board_with_received"] or data["board_codes"][0]
        )
    finally:
        stop(proc)
    return results


_WARM = """
import json, sys, time
import django
django.setup()
from repairs.views import track_page_warm
ids = [int(i) for i in sys.stdin.read().split()]
cpu, wall = time.process_time(), time.perf_counter()
warmed = sum(track_page_warm(ticket_id=i) for i in ids)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
per_ticket = round(cpu * 1000 / max(1, len(ids)), 2)
out = {"tickets": len(ids), "warmed": warmed, "worker_cpu_ms_per_ticket": per_ticket, "wall_s": round(wall, 1)}
print(json.dumps(out))
"""


def warm_notified(env: dict, ids: list[int], log: Path) -> dict:
    """What the notification worker does for each ticket of an SMS wave (``repairs.views.track_page_warm``), in a
    process of its own with the server's cache prefix; its CPU is the worker's, reported beside the page's."""
    done = subprocess.run(
        [str(PY), "-c", _WARM], cwd=ROOT, env=env, input=" ".join(map(str, ids)), capture_output=True, text=True
    )
    log.write_text(done.stderr)
    if done.returncode:
        return {"error": done.returncode}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _bare_beside(rounds: list[dict]) -> dict:
    """The mean of bare-view runs (requests/s, server CPU ms per request) as one row."""
    ok = [r for r in rounds if "rps" in r]
    if not ok:
        return {"error": "no bare run"}
    row = {k: ok[0][k] for k in ok[0] if not isinstance(ok[0][k], int | float)}
    for key in ("rps", "p50_ms", "p99_ms", "app_cpu_ms", "db_cpu_ms", "requests", "non_2xx_3xx", "socket_errors"):
        values = [r[key] for r in ok if key in r]
        if values:
            row[key] = sum(values) if key in ("requests", "non_2xx_3xx", "socket_errors") else sum(values) / len(values)
    return row


def measure_peer(peer_dir: Path, seconds: int, out: Path, pg: dict) -> dict:
    urls = [u for u in (peer_dir / "urls.txt").read_text().splitlines() if u]
    port = free_port()
    env = dict(
        os.environ,
        PEER_DB_NAME=pg["name"],
        PEER_DB_HOST=pg["host"],
        PEER_DB_PORT=str(pg["port"]),
        PEER_DB_USER=pg["user"],
        DJANGO_SETTINGS_MODULE="peer_site.settings",
    )
    gunicorn = peer_dir.parent / "peer-venv" / "bin" / "gunicorn"
    proc = start(
        [str(gunicorn), "peer_site.wsgi", *GUNICORN_ARGS], peer_dir, env, out / "gunicorn-peer.log", port, urls[0]
    )
    try:
        return wrk(port, urls, seconds, out, "peer-helpdesk_public_view", (proc.pid, pg["name"]))
    finally:
        stop(proc)


def table(result: dict) -> str:
    lines = []
    for label, res in result["ours"].items():
        bare = res["endpoints"]["bare"].get("rps") or 0
        bare_cpu = (res["endpoints"]["bare"].get("app_cpu_ms") or 0) + (res["endpoints"]["bare"].get("db_cpu_ms") or 0)
        lines.append(f"\n**{label}** ({res['sites']:,} sites, {res['tickets']:,} tickets)\n")
        lines.append(
            "| endpoint | req/s | p50 / p99 ms | errors | ÷ bare beside | server CPU ms/req (app + db) | "
            "bare CPU ÷ its CPU | goal | met (req/s; CPU) |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for name, r in res["endpoints"].items():
            if "rps" not in r:
                lines.append(f"| {name} | error | | | | | | | |")
                continue
            beside = (r.get("bare_beside") or {}).get("rps") or bare
            ratio = r["rps"] / beside if beside else 0
            cpu = (r.get("app_cpu_ms") or 0) + (r.get("db_cpu_ms") or 0)
            beside_cpu = (r.get("bare_beside") or {}).get("app_cpu_ms", 0) + (r.get("bare_beside") or {}).get(
                "db_cpu_ms", 0
            ) or bare_cpu
            cpu_ratio = beside_cpu / cpu if cpu else 0
            goal = GOALS.get(name)
            met = (
                ""
                if goal is None
                else f"{'yes' if ratio >= goal else '**no**'}; {'yes' if cpu_ratio >= goal else '**no**'}"
            )
            if r["non_2xx_3xx"] or r["socket_errors"]:  # fast errors are not throughput: the row does not count
                met = f"**invalid** ({r['non_2xx_3xx']} non-2xx, {r['socket_errors']} socket errors)"
            lines.append(
                f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.0f} / {r['p99_ms']:.0f} | "
                f"{r['non_2xx_3xx'] + r['socket_errors']:.0f} | {ratio:.2f} | "
                f"{cpu:.2f} ({r.get('app_cpu_ms', 0):.2f} + {r.get('db_cpu_ms', 0):.2f}) | {cpu_ratio:.2f} | "
                f"{goal or ''} | {met} |"
            )
        peer = result.get("peer")
        if peer and "rps" in peer:
            page = res["endpoints"]["tracking_page"]
            tp = 0 if page.get("non_2xx_3xx") or page.get("socket_errors") else page.get("rps", 0)
            page_cpu = page.get("app_cpu_ms", 0) + page.get("db_cpu_ms", 0)
            peer_cpu = peer.get("app_cpu_ms", 0) + peer.get("db_cpu_ms", 0)
            lines.append(
                f"| peer: django-helpdesk public ticket view | {peer['rps']:.0f} | "
                f"{peer['p50_ms']:.0f} / {peer['p99_ms']:.0f} | {peer['non_2xx_3xx'] + peer['socket_errors']} | "
                f"{peer['rps'] / bare:.2f} | {peer.get('app_cpu_ms', 0) + peer.get('db_cpu_ms', 0):.2f} | | "
                f"tracking page ≥ 3x peer | "
                f"{'yes' if tp >= 3 * peer['rps'] else '**no**'} ({tp / peer['rps']:.1f}x); "
                f"{'yes' if page_cpu and peer_cpu >= 3 * page_cpu else '**no**'} "
                f"({peer_cpu / page_cpu if page_cpu else 0:.1f}x by CPU) |"
            )
        warm = res.get("notified_warm")
        if warm:
            lines.append(
                f"\ntracking_page_notified: {warm.get('warmed')} of {warm.get('tickets')} pages warmed first, as the "
                f"notification worker does when it sends the link (web.track_warm): "
                f"{warm.get('worker_cpu_ms_per_ticket')} ms of the worker's CPU per ticket"
            )
        soak = res.get("board_soak", {})
        lines.append(
            f"\nBoard soak (240 req/s open loop): achieved {soak.get('achieved_rps')} req/s, p50 "
            f"{soak.get('p50_ms')} / p99 {soak.get('p99_ms')} / max {soak.get('max_ms')} ms, errors "
            f"{soak.get('errors')} — goal p99 < 200 ms: {'yes' if (soak.get('p99_ms') or 1e9) < 200 else '**no**'}; "
            f"change visible on the next poll: {res.get('board_change', {}).get('visible_on_next_poll')}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="the 1x database (bench/dataset.py)")
    parser.add_argument("--db-10x", default="", help="the 10x database (bench/dataset.py --site-scale 10)")
    parser.add_argument("--peer-dir", default="", help="made by bench/peer_helpdesk.py setup")
    parser.add_argument("--peer-db", default="postgres://postgres@127.0.0.1:5432/sh_hotpaths_peer")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--only", default="", help="comma-separated endpoint names (the bare view always runs)")
    parser.add_argument("--soak-seconds", type=int, default=30)
    parser.add_argument(
        "--out", default="/tmp/servicehub-bench/hotpaths/run-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from urllib.parse import urlparse

    pdb = urlparse(args.peer_db)
    result = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": open("/proc/loadavg").read().split()[:3],
        },
        "gunicorn": GUNICORN_ARGS,
        "wrk": "-t2 -c16",
        "seconds": args.seconds,
        "ours": {},
    }
    if args.peer_dir:
        print("peer (django-helpdesk) ...", file=sys.stderr, flush=True)
        result["peer"] = measure_peer(
            Path(args.peer_dir),
            args.seconds,
            out,
            {
                "name": pdb.path.lstrip("/"),
                "host": pdb.hostname,
                "port": pdb.port or 5432,
                "user": pdb.username or "postgres",
            },
        )
    for label, db in (("1x", args.db), ("10x", args.db_10x)):
        if db:
            only = frozenset(filter(None, args.only.split(",")))
            result["ours"][label] = measure_ours(db, args.redis, args.seconds, out, label, args.soak_seconds, only)
    result["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    result["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    (out / "result.json").write_text(json.dumps(result, indent=2))
    (out / "table.md").write_text(table(result) + "\n")
    print(json.dumps(result, indent=2))
    print(table(result), file=sys.stderr)


if __name__ == "__main__":
    main()
