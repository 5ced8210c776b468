"""BatchedThrottlesMixin decides exactly as DRF's check_throttles does, with one read and one write."""

import pytest
from django.core.cache import cache
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from servicehub.api.throttling import BatchedThrottlesMixin, KeyThrottle, LookupThrottle, PublicAnonThrottle
from tests.cachecalls import record_cache_calls

RATES = {"anon": "5/min", "tracking": "3/min", "key": "100/min"}


class Plain(APIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = [PublicAnonThrottle, LookupThrottle, KeyThrottle]
    throttle_scope = "tracking"

    def get(self, request):
        return Response({"ok": True})


class Batched(BatchedThrottlesMixin, Plain):
    pass


@pytest.fixture
def rates(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", RATES)
    cache.clear()
    yield
    cache.clear()


def _run(view, addresses):
    factory = APIRequestFactory()
    out = []
    for address in addresses:
        response = view.as_view()(factory.get("/x/", REMOTE_ADDR=address))
        out.append((response.status_code, response.get("Retry-After")))
    return out


def test_same_answers_as_drf_for_the_same_requests(rates):
    # Two addresses, interleaved: the lookup rate (3) refuses first, then the anon rate would too.
    addresses = ["10.0.0.1", "10.0.0.2"] * 4 + ["10.0.0.1"] * 3
    plain = _run(Plain, addresses)
    cache.clear()
    batched = _run(Batched, addresses)
    assert batched == plain
    assert [code for code, _wait in plain].count(429) == 5  # the control: the rates did refuse


def test_refused_requests_count_as_drf_counts_them(rates):
    _run(Batched, ["10.0.0.9"] * 4)  # 3 allowed, the 4th refused by the lookup rate
    assert len(cache.get("throttle_tracking_10.0.0.9")) == 3
    assert len(cache.get("throttle_anon_10.0.0.9")) == 4  # the anon rate still allowed (and counted) it


def test_one_read_and_one_write_per_request(rates, monkeypatch):
    calls = record_cache_calls(monkeypatch, cache, ("get", "set", "get_many", "set_many"))
    _run(Batched, ["10.0.0.3"])
    assert calls.names == ["get_many", "set_many"]
    calls.clear()
    _run(Plain, ["10.0.0.3"])
    assert calls.names == ["get", "set", "get", "set"]  # the control: what DRF does


class WithPrefetch(Batched):
    def throttle_prefetch_keys(self, request):
        return ["lock:a", "lock:b"]

    def get(self, request):
        return Response({"prefetched": request.throttle_prefetched})


def test_a_views_own_keys_come_in_the_same_read(rates, monkeypatch):
    cache.set("lock:a", 1, 60)
    calls = record_cache_calls(monkeypatch, cache, ("get", "get_many"))
    response = WithPrefetch.as_view()(APIRequestFactory().get("/x/", REMOTE_ADDR="10.0.0.4"))
    assert response.data == {"prefetched": {"lock:a": 1}}  # only the keys that exist
    assert calls.names == ["get_many"]


def test_the_tracking_api_reads_its_lock_with_the_throttles(rates, monkeypatch, db):
    """A locked number is refused from the prefetched lock, and the lock is not read a second time."""
    from repairs import verification

    key = verification.track_lock_key("ABCDEFGH23")
    cache.set(key, 1, 60)
    calls = record_cache_calls(monkeypatch, cache)
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/track/ABCDEFGH23/", {"phone_last4": "5678"})
    assert response.status_code == 429 and response.json()["code"] == "lookup_locked"
    assert key not in calls.args("get")


def test_the_page_lookup_throttle_decides_as_drf_with_its_lock_in_the_same_read(rates, monkeypatch):
    """``lookup_allowed`` (the tracking page) refuses where ``LookupThrottle.allow_request`` does, counts the same
    history, and reads the prefetched key with it: one get_many, one set_many."""
    from servicehub.api.throttling import lookup_allowed

    class Scope:
        throttle_scope = "tracking"

    factory = APIRequestFactory()
    answers = [lookup_allowed(factory.get("/x/", REMOTE_ADDR="10.0.0.5"), Scope(), prefetch=["lock:p"])[0]]
    answers += [lookup_allowed(factory.get("/x/", REMOTE_ADDR="10.0.0.5"), Scope(), prefetch=[])[0] for _ in range(3)]
    history = cache.get("throttle_tracking_10.0.0.5")
    cache.clear()
    drf = [LookupThrottle().allow_request(factory.get("/x/", REMOTE_ADDR="10.0.0.5"), Scope()) for _ in range(4)]
    assert answers == drf == [True, True, True, False]  # the control: the rate (3/min) did refuse
    assert len(history) == len(cache.get("throttle_tracking_10.0.0.5")) == 3
    cache.clear()
    cache.set("lock:p", 1, 60)
    calls = record_cache_calls(monkeypatch, cache, ("get", "set", "get_many", "set_many"))
    allowed, prefetched = lookup_allowed(factory.get("/x/", REMOTE_ADDR="10.0.0.6"), Scope(), prefetch=["lock:p"])
    assert allowed and prefetched == {"lock:p": 1} and calls.names == ["get_many", "set_many"]


def test_the_tracking_page_refuses_a_locked_number_from_the_lock_read_with_its_throttle(rates, monkeypatch, db):
    from django.test import Client

    from repairs import verification

    key = verification.track_lock_key("ABCDEFGH23")
    cache.set(key, 1, 60)
    calls = record_cache_calls(monkeypatch, cache)
    response = Client().get("/track/ABCDEFGH23/", {"phone_last4": "5678"})
    assert response.status_code == 429 and response.context["locked"] is True
    assert key not in calls.args("get")
