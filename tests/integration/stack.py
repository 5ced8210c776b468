"""Helpers that start real processes for the integration tests: a Celery worker, a private redis-server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CELERY = ROOT / ".venv" / "bin" / "celery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database this test session uses (pytest-django's test_<name>), for the worker."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Worker:
    """``celery -A servicehub worker`` on its own queue, against the test database."""

    def __init__(
        self,
        *,
        broker_url: str,
        queue: str,
        log_dir: Path,
        env: dict | None = None,
        pool: str = "solo",
        concurrency: int = 1,
    ):
        self.name = f"it-{uuid.uuid4().hex[:8]}@%h"
        self.log = log_dir / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": broker_url,
            "CELERY_QUEUE": queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "SECRET_KEY": "integration-tests-only",
            "DEBUG": "0",
            "TESTING": "0",
            "CONN_MAX_AGE": "0",
            "LOG_LEVEL": "INFO",
            "AXES_ENABLED": "0",
            **(env or {}),
        }
        self.args = [
            str(CELERY),
            "-A",
            "servicehub",
            "worker",
            "--queues",
            queue,
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
            "--hostname",
            self.name,
        ]
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for(
            lambda: "ready." in self.log.read_text(errors="replace") or self.process.poll() is not None,
            timeout=60,
            what="the worker to be ready",
        )
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited at start:\n{self.output()}")
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown, no ack, nothing flushed."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class RedisServer:
    """A private redis-server on a free port (never the machine's shared one), stoppable mid-test."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(self._ping, timeout=10, what="redis-server")
        return self

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def reset_broker_pools(app) -> None:
    """Drop cached broker connections, so the next publish uses the broker the settings now name.

    Celery reads ``CELERY_*`` from Django's settings on every access (the namespaced key wins
    over ``app.conf`` changes), so tests switch brokers with the ``settings`` fixture and call this.
    """
    from kombu import pools

    pools.reset()  # kombu keeps producer pools per connection globally
    app._pool = None
    app.amqp._producer_pool = None
