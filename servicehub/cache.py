"""Django's Redis cache with one client object per connection pool (issue #17).

``django.core.cache.backends.redis.RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every
cache call, and each one fills a dict of ~80 response callbacks: on the tracking endpoint (two
throttles, the lookup lock, the cached parts: six cache calls) that was a tenth of the request's CPU.
A ``redis.Redis`` holds no per-command state and is safe to share (its pool hands out connections),
so one per pool is kept. ``set_many`` writes each key with its expiry in one command (Django's sends
MULTI, MSET, an EXPIRE per key and EXEC: four commands for the one throttle history a public request writes).
Everything else is Django's backend, unchanged.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def set_many(self, data, timeout):
        """What Django's ``set_many`` stores (``timeout`` None: no expiry; 0: the keys are deleted), with one
        ``SET ... EX`` per key: no transaction, which a cache of independent keys never needed."""
        client = self.get_client(None, write=True)
        if not data:
            return
        if timeout == 0:
            client.delete(*data)
            return
        if timeout is None:
            client.mset({key: self._serializer.dumps(value) for key, value in data.items()})
            return
        if len(data) == 1:
            ((key, value),) = data.items()
            client.set(key, self._serializer.dumps(value), ex=timeout)
            return
        pipeline = client.pipeline(transaction=False)
        for key, value in data.items():
            pipeline.set(key, self._serializer.dumps(value), ex=timeout)
        pipeline.execute()


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
