"""The read-replica router (no second database needed: the routing decision is what is tested;
bench/replica_check.py runs the same code against a real streaming standby, docs/scaling.md)."""

from types import SimpleNamespace

import pytest
from django.test import RequestFactory

from servicehub import dbrouter
from servicehub.dbrouter import PrimaryReplicaRouter, ReplicaReadsMiddleware, replica_reads


@pytest.fixture
def primary(monkeypatch):
    """A replica is configured; ``primary.in_atomic_block`` is the primary's transaction state."""
    conn = SimpleNamespace(in_atomic_block=False)
    monkeypatch.setattr(dbrouter, "replica_configured", lambda: True)
    monkeypatch.setattr(dbrouter, "connections", {"default": conn})
    return conn


def test_reads_use_the_primary_outside_a_replica_scope(primary):
    assert PrimaryReplicaRouter().db_for_read(None) == "default"


def test_reads_in_a_replica_scope_use_the_replica(primary):
    with replica_reads():
        assert PrimaryReplicaRouter().db_for_read(None) == "replica"
    assert PrimaryReplicaRouter().db_for_read(None) == "default"


def test_no_replica_configured_means_primary_everywhere(monkeypatch):
    monkeypatch.setattr(dbrouter, "replica_configured", lambda: False)
    with replica_reads():
        assert PrimaryReplicaRouter().db_for_read(None) == "default"


def test_reads_inside_a_primary_transaction_stay_on_the_primary(primary):
    """select_for_update and read-your-writes inside atomic() must not go to a copy."""
    with replica_reads():
        primary.in_atomic_block = True
        assert PrimaryReplicaRouter().db_for_read(None) == "default"
        primary.in_atomic_block = False
        assert PrimaryReplicaRouter().db_for_read(None) == "replica"


def test_a_write_pins_the_rest_of_the_scope_to_the_primary(primary):
    router = PrimaryReplicaRouter()
    with replica_reads():
        assert router.db_for_read(None) == "replica"
        assert router.db_for_write(None) == "default"
        assert router.db_for_read(None) == "default"  # read-your-writes
    with replica_reads():  # the next request starts unpinned
        assert router.db_for_read(None) == "replica"


def test_migrations_run_on_the_primary_only():
    router = PrimaryReplicaRouter()
    assert router.allow_migrate("default", "centers") is True
    assert router.allow_migrate("replica", "centers") is False
    assert router.allow_relation(object(), object()) is True


@pytest.mark.parametrize(
    "method,path,headers,expected",
    [
        ("get", "/api/v1/centers/SC-SH-001/", {}, "replica"),
        ("head", "/centers/SC-SH-001/", {}, "replica"),
        ("get", "/board/SC-SH-001/body/", {}, "replica"),
        ("post", "/api/v1/centers/", {}, "default"),
        ("get", "/track/SH0000000001/", {}, "default"),  # a customer's own repair: always fresh
        ("get", "/api/v1/track/SH0000000001/", {}, "default"),
        ("get", "/admin/", {}, "default"),
        ("get", "/api/v1/centers/", {"HTTP_AUTHORIZATION": "Bearer sh_x"}, "default"),  # partners: primary
    ],
)
def test_middleware_opens_the_scope_for_public_reads_only(primary, settings, method, path, headers, expected):
    settings.REPLICA_READ_PATHS = ["/api/v1/centers/", "/centers/", "/board/"]
    seen = []
    middleware = ReplicaReadsMiddleware(lambda request: seen.append(PrimaryReplicaRouter().db_for_read(None)))
    middleware(getattr(RequestFactory(), method)(path, **headers))
    assert seen == [expected]


def test_settings_wire_the_router_and_the_middleware(settings):
    assert settings.DATABASE_ROUTERS == ["servicehub.dbrouter.PrimaryReplicaRouter"]
    assert "servicehub.dbrouter.ReplicaReadsMiddleware" in settings.MIDDLEWARE


def test_primary_reads_inside_a_replica_scope(primary):
    """Cache fills read the primary: a lagging standby must not be cached under a fresh version."""
    from servicehub.dbrouter import primary_reads

    router = PrimaryReplicaRouter()
    with replica_reads():
        with primary_reads():
            assert router.db_for_read(None) == "default"
        assert router.db_for_read(None) == "replica"  # the scope goes on after the block
    with primary_reads():  # outside a scope it changes nothing
        assert router.db_for_read(None) == "default"
    with replica_reads():
        assert router.db_for_read(None) == "replica"
