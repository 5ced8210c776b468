"""Benchmark: nearest-centers API vs center-detail API, at 22,400 and 224,000 sites (PostgreSQL).

Usage (from the project root):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_centers python bench/centers_nearest.py

It creates two scratch databases, ``<DATABASE_URL's database>_22k`` and ``..._224k`` (bench/scratchdb.py; dropped
first if they exist, dropped again at the end unless ``--keep``), loads the demo network into each
(``centers.demo.seed``: 2,400 centers + 20,000 collection points, then 10x), and times, in one run
per scale with the Django test client (in-process, no network), the median latency of

* ``GET /api/v1/centers/?near=LAT,LNG&radius_km=25&page_size=20`` at random points around real
  county centroids, and
* ``GET /api/v1/centers/{code}/`` for random centers,

interleaved, after a warm-up. It also counts the SQL queries of one nearest request. Each scale
runs in a child process (a fresh Django on its own database); the parent prints raw numbers and
the ratios as JSON and a summary. Throttling is switched off through THROTTLE_ANON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratchdb  # noqa: E402

SCALES = {"22k": (2400, 20000), "224k": (24000, 200000)}


# --- child: one scale ---------------------------------------------------------------------


def run_scale(centers: int, points: int, requests: int, warmup: int, seed: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ["THROTTLE_ANON"] = "100000000/min"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from centers import demo
    from centers.models import OpeningHours, Region, ServiceCenter

    call_command("migrate", verbosity=0, skip_checks=True)
    t0 = time.monotonic()
    demo.seed(out=sys.stderr, options={"centers": centers, "collection_points": points, "seed": seed})
    seed_s = time.monotonic() - t0
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    sites = ServiceCenter.objects.count()

    rng = random.Random(seed)
    counties = list(Region.objects.filter(level="county", is_placeholder=False).values_list("lat", "lng"))
    codes = list(ServiceCenter.objects.exclude(kind="collection_point").values_list("code", flat=True))
    near_urls = []
    for _ in range(requests + warmup):
        lat, lng = rng.choice(counties)
        near_urls.append(
            f"/api/v1/centers/?near={lat + rng.uniform(-0.05, 0.05):.5f},{lng + rng.uniform(-0.05, 0.05):.5f}"
            "&radius_km=25&page_size=20"
        )
    detail_urls = [f"/api/v1/centers/{rng.choice(codes)}/" for _ in range(requests + warmup)]

    client = Client()
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(near_urls[0])
    assert r.status_code == 200, r.content[:300]
    nearest_queries = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(detail_urls[0])
    assert r.status_code == 200, r.content[:300]
    detail_queries = len(ctx.captured_queries)

    near_t, detail_t, results = [], [], []
    for i in range(requests + warmup):
        for kind, url, sink in (("near", near_urls[i], near_t), ("detail", detail_urls[i], detail_t)):
            start = time.perf_counter()
            resp = client.get(url)
            elapsed = (time.perf_counter() - start) * 1000
            assert resp.status_code == 200, (url, resp.status_code)
            if i >= warmup:
                sink.append(elapsed)
                if kind == "near":
                    results.append(resp.json()["count"])
    return {
        "sites": sites,
        "opening_hours_rows": OpeningHours.objects.count(),
        "seed_seconds": round(seed_s, 1),
        "requests_each": requests,
        "nearest_queries": nearest_queries,
        "detail_queries": detail_queries,
        "nearest_median_ms": round(statistics.median(near_t), 2),
        "nearest_p90_ms": round(statistics.quantiles(near_t, n=10)[-1], 2),
        "detail_median_ms": round(statistics.median(detail_t), 2),
        "detail_p90_ms": round(statistics.quantiles(detail_t, n=10)[-1], 2),
        "nearest_median_matches_in_radius": statistics.median(results),
        "nearest_max_matches_in_radius": max(results),
    }


# --- parent -------------------------------------------------------------------------------


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"python": platform.python_version(), "platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="Timed requests per endpoint and scale.")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20180301)
    parser.add_argument("--scales", default="22k,224k")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch databases.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        centers, points = SCALES[args.child]
        print(json.dumps(run_scale(centers, points, args.requests, args.warmup, args.seed)))
        return

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://... (the benchmark creates <its database>_22k/_224k next to it).")
    out: dict = {"machine": machine(), "command": " ".join(["python"] + sys.argv), "scales": {}}
    import psycopg2

    conn = psycopg2.connect(scratchdb.db_url(base, "postgres"))
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        out["machine"]["postgresql"] = cur.fetchone()[0]
    conn.close()
    for scale in args.scales.split(","):
        name = scratchdb.scratch_name(base, scale)
        scratch_url = scratchdb.recreate(base, name)
        try:
            env = {**os.environ, "DATABASE_URL": scratch_url}
            env.pop("REDIS_URL", None)
            cmd = [sys.executable, __file__, "--child", scale, "--requests", str(args.requests),
                   "--warmup", str(args.warmup), "--seed", str(args.seed)]  # fmt: skip
            print(f"[{scale}] seeding and measuring ...", file=sys.stderr, flush=True)
            proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
            if proc.returncode:
                sys.stderr.write(proc.stderr)
                sys.exit(f"scale {scale} failed")
            out["scales"][scale] = json.loads(proc.stdout.strip().splitlines()[-1])
        finally:
            if not args.keep:
                scratchdb.drop(base, name)
    s = out["scales"]
    for r in s.values():
        r["nearest_vs_detail"] = round(r["nearest_median_ms"] / r["detail_median_ms"], 2)
    if "22k" in s and "224k" in s:
        out["growth_nearest_224k_vs_22k"] = round(s["224k"]["nearest_median_ms"] / s["22k"]["nearest_median_ms"], 2)
        out["growth_detail_224k_vs_22k"] = round(s["224k"]["detail_median_ms"] / s["22k"]["detail_median_ms"], 2)
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
