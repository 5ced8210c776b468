"""servicehub.cache: Django's Redis cache, with one client per pool instead of one per call (issue #17)."""

import os

import pytest
from django.core.cache.backends import redis as django_redis

from servicehub.cache import RedisCache

REDIS_URL = os.environ.get("REDIS_URL", "")


def _cache(url="redis://127.0.0.1:6379/0"):
    return RedisCache(url, {"KEY_PREFIX": "test-cache-client"})


def test_one_client_per_pool_where_django_builds_one_per_call():
    ours, theirs = _cache()._cache, django_redis.RedisCache("redis://127.0.0.1:6379/0", {})._cache
    assert ours.get_client() is ours.get_client()
    assert ours.get_client(write=True) is ours.get_client(write=False)  # one server: one pool
    assert theirs.get_client() is not theirs.get_client()  # the control: what this fixes


def test_each_server_keeps_its_own_client():
    client = RedisCache(["redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1"], {})._cache
    writer = client.get_client(write=True)
    assert writer.connection_pool.connection_kwargs["db"] == 0
    assert client.get_client(write=True) is writer
    reader = client.get_client(write=False)
    assert reader.connection_pool.connection_kwargs["db"] == 1 and reader is not writer


@pytest.mark.skipif(not REDIS_URL, reason="needs the Redis of REDIS_URL")
def test_it_is_still_a_working_cache():
    cache = _cache(REDIS_URL)
    cache.set("k", {"a": 1}, 30)
    assert cache.get("k") == {"a": 1}
    assert cache.incr("n", 1) if cache.add("n", 1, 30) else True
    assert cache.get_many(["k", "missing"]) == {"k": {"a": 1}}
    cache.delete_many(["k", "n"])
    assert cache.get("k") is None


@pytest.mark.skipif(not REDIS_URL, reason="needs the Redis of REDIS_URL")
@pytest.mark.parametrize("timeout", [30, None, 0])
@pytest.mark.parametrize("count", [1, 3])
def test_set_many_stores_what_djangos_stores_in_fewer_commands(timeout, count, monkeypatch):
    ours, theirs = _cache(REDIS_URL), django_redis.RedisCache(REDIS_URL, {"KEY_PREFIX": "test-cache-django"})
    data = {f"sm{i}": {"i": i} for i in range(count)}
    sent = []
    import redis

    real = redis.connection.Connection.send_packed_command
    monkeypatch.setattr(
        redis.connection.Connection,
        "send_packed_command",
        lambda self, command, *a, **k: (sent.append(command), real(self, command, *a, **k))[1],
    )
    for cache in (ours, theirs):
        cache.set_many(dict.fromkeys(data, "old"), 60)
        sent.clear()
        cache.set_many(data, timeout)
        cache.commands = b"".join(c if isinstance(c, bytes) else b"".join(c) for c in sent).count(b"\r\n$")
    monkeypatch.undo()
    assert ours.get_many(list(data)) == theirs.get_many(list(data)) == ({} if timeout == 0 else data)
    for key in data:
        ttl = [c._cache.get_client().ttl(c.make_and_validate_key(key)) for c in (ours, theirs)]
        assert ttl[0] == ttl[1] or (timeout and abs(ttl[0] - ttl[1]) <= 1)
        assert (ttl[0] == -1) if timeout is None else True
    assert ours.commands < theirs.commands  # the control: Django's MULTI/MSET/EXPIRE/EXEC sends more
    ours.delete_many(list(data)), theirs.delete_many(list(data))
