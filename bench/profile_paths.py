"""CPU milliseconds and SQL queries per request of the public hot paths, in-process (issue #17).

Runs the Django test client against a benchmark database (bench/dataset.py) with DEBUG off and the
throttles raised, and reports for each endpoint the median CPU time of this process per request
(``time.process_time``: Django, DRF, templates, the driver; PostgreSQL's own CPU is not included)
and the exact number of queries. ``CODE_ROOT`` chooses the code: run it once on the branch and
once on a checkout of the code before (read-only), same database, to see what the changes bought:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_hotpaths_1x .venv/bin/python bench/profile_paths.py
    CODE_ROOT=/path/to/old/checkout DATABASE_URL=... .venv/bin/python bench/profile_paths.py
    ... --cprofile tracking_page     # and the top of cProfile's cumulative list for one endpoint
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

CODE_ROOT = Path(os.environ.get("CODE_ROOT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(CODE_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
os.environ.update(
    DEBUG="0",
    SECURE_SSL_REDIRECT="0",
    THROTTLE_ANON="100000000/min",
    THROTTLE_TRACKING="100000000/min",
    LOG_LEVEL="WARNING",
)
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("CELERY_QUEUE", "bench-nobody")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cprofile", default="")
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(20180301)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT t.service_no, right(c.phone, 4) FROM repairs_repairticket t JOIN repairs_customer c"
            " ON c.id = t.customer_id ORDER BY t.id LIMIT 500"
        )
        tracking = cur.fetchall()
        # Tickets nobody looked up yet (each asked once: an SMS wave, where every cached part is cold).
        cur.execute(
            "SELECT t.service_no, right(c.phone, 4) FROM repairs_repairticket t JOIN repairs_customer c"
            " ON c.id = t.customer_id ORDER BY t.id DESC LIMIT %s",
            [4 * (args.requests + 60)],
        )
        fresh = iter(cur.fetchall())
        cur.execute(
            "SELECT code, lat, lng FROM centers_servicecenter WHERE active AND kind IN"
            " ('service_center', 'flagship') ORDER BY code LIMIT 500"
        )
        centers = cur.fetchall()
        cur.execute(
            "SELECT name FROM centers_region WHERE level = 'county' AND NOT is_placeholder ORDER BY adcode LIMIT 300"
        )
        counties = [r[0] for r in cur.fetchall()]
    paths = {
        "bare": lambda: "/healthz",
        "tracking_api": lambda: "/api/v1/track/{}/?phone_last4={}".format(*rng.choice(tracking)),
        "tracking_page": lambda: "/track/{}/?phone_last4={}".format(*rng.choice(tracking)),
        "tracking_api_cold": lambda: "/api/v1/track/{}/?phone_last4={}".format(*next(fresh)),
        "tracking_page_cold": lambda: "/track/{}/?phone_last4={}".format(*next(fresh)),
        # 40 centers, visited by the warm-up first: the steady state of a site whose cache is warm.
        "center_detail_api": lambda: f"/api/v1/centers/{rng.choice(centers[:40])[0]}/",
        "center_page": lambda: f"/centers/{rng.choice(centers[:40])[0]}/",
        "nearest_10": lambda: "/api/v1/centers/?near={:.4f},{:.4f}&page_size=10".format(*rng.choice(centers)[1:]),
        "home": lambda: "/",
        "centers_text_search": lambda: f"/centers/?q={rng.choice(counties)}",
        "board_body": lambda: f"/board/{rng.choice(centers[:40])[0]}/body/",
    }
    client = Client(HTTP_ACCEPT_ENCODING="gzip")
    result = {"code_root": str(CODE_ROOT), "requests": args.requests, "endpoints": {}}
    for name, make in paths.items():
        for _ in range(60):  # warm-up (and, where the code caches, a warm cache)
            client.get(make())
        cpu, queries, statuses = [], [], set()
        for _ in range(args.requests):
            url = make()
            with CaptureQueriesContext(connection) as ctx:
                t = time.process_time()
                response = client.get(url)
                cpu.append((time.process_time() - t) * 1000)
            queries.append(len(ctx.captured_queries))
            statuses.add(response.status_code)
        result["endpoints"][name] = {
            "cpu_ms_median": round(statistics.median(cpu), 2),
            "cpu_ms_p90": round(sorted(cpu)[int(len(cpu) * 0.9)], 2),
            "queries_median": statistics.median(queries),
            "queries_max": max(queries),
            "statuses": sorted(statuses),
        }
        print(name, result["endpoints"][name], file=sys.stderr, flush=True)
    if args.cprofile:
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.requests):
            client.get(paths[args.cprofile]())  # (a _cold path continues with tickets not asked yet)
        prof.disable()
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf).sort_stats(os.environ.get("CPROFILE_SORT", "cumulative"))
        stats.print_stats(int(os.environ.get("CPROFILE_ROWS", "25")))
        result["cprofile"] = buf.getvalue()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
