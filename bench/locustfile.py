"""Locust scenarios for bench/load.py (one user class per scenario; run them one at a time).

The fixture file named by ``LOAD_FIXTURE`` (written by bench/load.py) holds the sample data: tracking
pairs (service_no, last 4 phone digits), center codes and coordinates, API keys, device model codes.
Expected refusals are counted as successes: 409 ``slot_full`` when booking, 409 ``invalid_transition``.
Anything else that is not 2xx (and every 5xx) is a failure.
"""

import datetime as dt
import itertools
import json
import os
import random

from locust import HttpUser, constant, task

FIX = json.load(open(os.environ.get("LOAD_FIXTURE", "/tmp/servicehub-bench/fixture.json")))
TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()
_serial = itertools.count(int(os.environ.get("LOAD_SERIAL_START", "0")))


def luhn_imei(body14: str) -> str:
    total = 0
    for i, ch in enumerate(body14):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return body14 + str((10 - total % 10) % 10)


def new_imei() -> str:
    return luhn_imei(f"86{os.getpid() % 100:02d}{next(_serial):010d}")


def new_phone() -> str:
    return f"137{random.randint(0, 99_999_999):08d}"


def _ok(response, *allowed):
    if response.status_code < 300 or response.status_code in allowed:
        response.success()
    else:
        response.failure(f"{response.status_code} {response.text[:200]}")


class _Base(HttpUser):
    abstract = True
    wait_time = constant(0)


class BareUser(_Base):
    """/healthz: a JsonResponse after ``SELECT 1`` -- the cheapest view on the same gunicorn (the ceiling)."""

    @task
    def healthz(self):
        self.client.get("/healthz", name="bare /healthz")


class TrackingUser(_Base):
    @task
    def track(self):
        no, last4 = random.choice(FIX["tracking"])
        self.client.get(f"/api/v1/track/{no}/?phone_last4={last4}", name="tracking lookup")


class NearestUser(_Base):
    @task
    def nearest(self):
        lat, lng = random.choice(FIX["points"])
        lat += random.uniform(-0.05, 0.05)
        lng += random.uniform(-0.05, 0.05)
        self.client.get(f"/api/v1/centers/?near={lat:.5f},{lng:.5f}&radius_km=25&page_size=20", name="nearest centers")


class SlotsUser(_Base):
    @task
    def slots(self):
        code = random.choice(FIX["booking_centers"])
        self.client.get(f"/api/v1/centers/{code}/slots/?date={TOMORROW}", name="slots")


class BookingUser(_Base):
    """Pick a center, read its slots, book a free one (409 slot_full when someone was faster is fine)."""

    @task
    def book(self):
        code = random.choice(FIX["booking_centers"])
        r = self.client.get(f"/api/v1/centers/{code}/slots/?date={TOMORROW}", name="slots (before booking)")
        free = [s["start"] for s in (r.json() if r.status_code == 200 else []) if s["available"] > 0]
        if not free:
            return
        body = {
            "center": code,
            "start": random.choice(free),
            "customer": {"name": "压测 用户", "phone": new_phone()},
            "device": {"imei": new_imei(), "model": FIX["model"]},
            "issue": "屏幕碎了",
        }
        with self.client.post("/api/v1/appointments/", json=body, name="booking", catch_response=True) as resp:
            _ok(resp, 409)


class CheckInUser(_Base):
    """Front desk: check a walk-in in, then start its diagnosis and send it back (transitions)."""

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {FIX['staff_key']}"

    @task
    def check_in_and_transition(self):
        body = {
            "center": random.choice(FIX["desk_centers"]),
            "channel": "walk_in",
            "customer": {"name": "压测 用户", "phone": new_phone()},
            "device": {
                "imei": new_imei(),
                "model": FIX["model"],
                "sold_at": (dt.datetime.now(dt.UTC) - dt.timedelta(days=100)).isoformat(),
            },
            "fault": {"category": "screen", "description": "cracked"},
            "accessories": [],
        }
        with self.client.post("/api/v1/tickets/", json=body, name="ticket check-in", catch_response=True) as r:
            _ok(r)
            if r.status_code != 201:
                return
            no = r.json()["service_no"]
        for action in FIX["transitions"]:
            with self.client.post(
                f"/api/v1/tickets/{no}/transition/",
                json={"action": action},
                name="ticket transition",
                catch_response=True,
            ) as r:
                _ok(r, 409)


class DeviceRegistrationUser(_Base):
    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {FIX['partner_key']}"

    @task
    def register(self):
        body = {
            "imei": new_imei(),
            "model": FIX["model"],
            "sold_at": (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).isoformat(),
        }
        with self.client.post(
            "/api/v1/devices/", json=body, name="partner device registration", catch_response=True
        ) as r:
            _ok(r)


SCENARIOS = {
    "bare": BareUser,
    "tracking": TrackingUser,
    "nearest": NearestUser,
    "slots": SlotsUser,
    "booking": BookingUser,
    "checkin_transitions": CheckInUser,
    "device_registration": DeviceRegistrationUser,
}
