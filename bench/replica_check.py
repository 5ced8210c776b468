"""Checks the read-replica routing against a real streaming standby (run by bench/replica_check.sh).

Needs DATABASE_URL (primary) and DATABASE_REPLICA_URL (a hot standby of it, same database). Prints
JSON; exits 1 when any check fails. What it proves:

1. the replica alias is a standby (``pg_is_in_recovery()``) and refuses writes;
2. a center written on the primary reaches the standby (replication lag measured);
3. ``GET /api/v1/centers/`` (nearest search) and the Service Days list run every query on the replica,
   none on the primary;
4. a center page's cache fill and the tracking API run on the primary only; inside a replica scope a
   write goes to the primary and pins the reads after it there;
5. right after a change of hours (cache version bumped on commit) the center detail shows the new hours,
   also while the standby is made to lag (replay paused): the cache fill reads the primary.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")


def main() -> int:
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connections, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from centers import services
    from centers.choices import CenterKind, RegionLevel
    from centers.models import Region, ServiceCenter

    assert "replica" in connections.databases, "set DATABASE_REPLICA_URL"
    call_command("migrate", verbosity=0)
    cache.clear()
    checks: dict = {}
    primary, replica = connections["default"], connections["replica"]

    with replica.cursor() as cur:
        cur.execute("SELECT pg_is_in_recovery()")
        checks["replica_in_recovery"] = cur.fetchone()[0] is True
    try:
        with replica.cursor() as cur:
            cur.execute("CREATE TABLE replica_write_probe (id int)")
        checks["replica_refuses_writes"] = False
    except Exception as exc:  # noqa: BLE001 - the standby's own error is the proof
        checks["replica_refuses_writes"] = "read-only" in str(exc)
        replica.close()

    # A center on the primary (regions made here: no dataset needed).
    province, _ = Region.objects.get_or_create(
        adcode="310000000000", defaults={"name": "上海市", "level": RegionLevel.PROVINCE}
    )
    city, _ = Region.objects.get_or_create(
        adcode="310100000000", defaults={"name": "上海市", "level": RegionLevel.CITY, "parent": province}
    )
    county, _ = Region.objects.get_or_create(
        adcode="310101000000", defaults={"name": "黄浦区", "level": RegionLevel.COUNTY, "parent": city}
    )
    code = f"RPL-{int(time.time())}"
    with transaction.atomic():
        center = services.center_create(
            code=code,
            name="Replica Check Center",
            kind=CenterKind.SERVICE_CENTER,
            region=county,
            address="1 Test Road",
            lat=31.2304,
            lng=121.4737,
            services=["phone", "walk_in"],
        )
        for weekday in range(7):
            services.opening_hours_set(center_id=center.pk, weekday=weekday, intervals=[(dt.time(9), dt.time(18))])
    t0 = time.perf_counter()
    while not ServiceCenter.objects.using("replica").filter(code=code).exists():
        time.sleep(0.01)
        if time.perf_counter() - t0 > 30:
            break
    checks["replicated_within_ms"] = round((time.perf_counter() - t0) * 1000, 1)

    client = Client()

    def run(method, url, **kw):
        with CaptureQueriesContext(primary) as p, CaptureQueriesContext(replica) as r:
            response = getattr(client, method)(url, **kw)
        return response, len(p.captured_queries), len(r.captured_queries)

    resp, on_primary, on_replica = run("get", "/api/v1/centers/", data={"near": "31.2304,121.4737", "radius_km": 5})
    checks["nearest_on_replica"] = {
        "status": resp.status_code,
        "primary": on_primary,
        "replica": on_replica,
        "found": code in resp.content.decode(),
    }
    resp, on_primary, on_replica = run("get", "/api/v1/service-days/", data={"center": code})
    checks["service_days_on_replica"] = {"status": resp.status_code, "primary": on_primary, "replica": on_replica}
    resp, on_primary, on_replica = run("get", f"/api/v1/centers/{code}/")
    checks["center_detail_cache_fill_on_primary"] = {
        "status": resp.status_code,
        "primary": on_primary,
        "replica": on_replica,
    }
    resp, on_primary, on_replica = run("get", f"/api/v1/centers/{code}/")
    checks["center_detail_cached"] = {"status": resp.status_code, "primary": on_primary, "replica": on_replica}
    resp, on_primary, on_replica = run("get", "/api/v1/track/NOPE000000/", data={"phone_last4": "1234"})
    checks["tracking_on_primary"] = {"status": resp.status_code, "primary": on_primary, "replica": on_replica}
    # Inside a replica scope (as in a public GET): read -> replica; a write -> primary; then pinned.
    from servicehub.dbrouter import replica_reads

    with replica_reads(), CaptureQueriesContext(primary) as p, CaptureQueriesContext(replica) as r:
        ServiceCenter.objects.filter(code=code).exists()
        after_read = (len(p.captured_queries), len(r.captured_queries))
        services.center_update(center_id=center.pk, name="Replica Check Center (renamed)")
        after_write = (len(p.captured_queries), len(r.captured_queries))
        ServiceCenter.objects.filter(code=code).exists()
        after_second_read = (len(p.captured_queries), len(r.captured_queries))
    checks["write_pins_to_primary"] = {
        "after_read": after_read,
        "after_write": after_write,
        "after_second_read": after_second_read,
    }

    # Freshness while the standby lags: pause its replay, change the hours, read the detail.
    with replica.cursor() as cur:
        cur.execute("SELECT pg_wal_replay_pause()")
    try:
        with transaction.atomic():
            services.opening_hours_set(center_id=center.pk, weekday=0, intervals=[(dt.time(7), dt.time(11))])
        stale = ServiceCenter.objects.using("replica").get(code=code).opening_hours.using("replica").filter(weekday=0)
        resp, on_primary, on_replica = run("get", f"/api/v1/centers/{code}/")
        monday = [h for h in resp.json()["opening_hours"] if h["weekday"] == 0]
        checks["fresh_while_replica_lags"] = {
            "replica_still_has": [(str(h.opens), str(h.closes)) for h in stale],
            "api_shows": monday,
            "ok": monday == [{"weekday": 0, "opens": "07:00", "closes": "11:00"}],
        }
    finally:
        with replica.cursor() as cur:
            cur.execute("SELECT pg_wal_replay_resume()")

    ok = (
        checks["replica_in_recovery"]
        and checks["replica_refuses_writes"]
        and checks["nearest_on_replica"]["primary"] == 0
        and checks["nearest_on_replica"]["replica"] > 0
        and checks["nearest_on_replica"]["found"]
        and checks["service_days_on_replica"]["primary"] == 0
        and checks["center_detail_cache_fill_on_primary"]["replica"] == 0
        and checks["center_detail_cached"] == {"status": 200, "primary": 0, "replica": 0}
        and checks["tracking_on_primary"]["replica"] == 0
        and checks["write_pins_to_primary"]["after_read"] == (0, 1)
        and checks["write_pins_to_primary"]["after_write"][1] == 1
        and checks["write_pins_to_primary"]["after_second_read"][0]
        == checks["write_pins_to_primary"]["after_write"][0] + 1
        and checks["fresh_while_replica_lags"]["ok"]
    )
    checks["held"] = bool(ok)
    print(json.dumps(checks, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
