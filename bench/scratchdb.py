"""Scratch PostgreSQL databases for the benchmarks, named after the ``DATABASE_URL`` they are given.

A benchmark that needs its own database(s) derives their names from the database in
``DATABASE_URL`` plus a suffix (``sh_ev_notifications`` -> ``sh_ev_notifications_burst``), so
two runs pointed at different databases never drop each other's scratch data, and
``bench/run_all.sh``'s ``sh_ev_*`` names carry through. Only databases whose name has a
scratch suffix added here are ever dropped.
"""

from __future__ import annotations

from urllib.parse import urlparse, urlunparse


def db_url(base: str, name: str) -> str:
    """``base`` (a ``postgres://`` URL) pointing at database ``name`` instead."""
    return urlunparse(urlparse(base)._replace(path="/" + name))


def base_name(base: str) -> str:
    name = urlparse(base).path.lstrip("/")
    if not name:
        raise SystemExit(f"DATABASE_URL needs a database name: {base!r}")
    return name


def scratch_name(base: str, suffix: str) -> str:
    """The scratch database of this benchmark: ``<DATABASE_URL's database>_<suffix>``."""
    return f"{base_name(base)}_{suffix}"


def _admin(base: str):
    import psycopg2

    conn = psycopg2.connect(db_url(base, "postgres"))
    conn.autocommit = True
    return conn


def recreate(base: str, name: str) -> str:
    """Drop (terminating its connections) and create database ``name``; returns its URL."""
    _check(base, name)
    conn = _admin(base)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return db_url(base, name)


def drop(base: str, name: str) -> None:
    _check(base, name)
    conn = _admin(base)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def ensure(base: str) -> None:
    """Create the database of ``base`` itself if it does not exist (never drops it)."""
    name = base_name(base)
    conn = _admin(base)
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def _check(base: str, name: str) -> None:
    # Guard: a scratch database is always DATABASE_URL's database plus a suffix.
    prefix = base_name(base) + "_"
    if not name.startswith(prefix) or len(name) == len(prefix):
        raise ValueError(f"{name!r} is not a scratch database of {base_name(base)!r}")
