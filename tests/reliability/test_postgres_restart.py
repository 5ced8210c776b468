"""PostgreSQL restarted under a running app server: with CONN_HEALTH_CHECKS (on in settings) the persistent
connection is checked before reuse, so the first request after the restart already succeeds.

A PRIVATE cluster (``pg_createcluster 15 evtest -p 5499``) is created, restarted and dropped here -- the
machine's own PostgreSQL on 5432 is never touched. gunicorn (1 sync worker, CONN_MAX_AGE=60) serves
``/healthz`` (``SELECT 1`` on the default database) from that cluster. The CONTROL runs the same server with
health checks off and shows the harness catches the failure (the first request after the restart is a 500)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION, CLUSTER, PORT = "15", "evtest", 5499

pytestmark = pytest.mark.postgres


def _run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def private_cluster():
    if not shutil.which("pg_createcluster") or os.geteuid() != 0:
        pytest.skip("needs Debian's pg_createcluster as root to start a private PostgreSQL cluster on port 5499")
    if CLUSTER not in _run("pg_lsclusters", "-h").stdout:
        created = _run("pg_createcluster", VERSION, CLUSTER, "-p", str(PORT), "--", "--auth=trust")
        assert created.returncode == 0, created.stderr
    started = _run("pg_ctlcluster", VERSION, CLUSTER, "start")
    assert started.returncode == 0 or "already running" in started.stderr, started.stderr
    yield f"postgres://postgres@127.0.0.1:{PORT}/postgres"
    _run("pg_ctlcluster", VERSION, CLUSTER, "stop", "-m", "immediate")
    _run("pg_dropcluster", VERSION, CLUSTER)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def app_server(private_cluster):
    procs = []

    def start(settings_module="servicehub.settings"):
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "TESTING")}
        env.update(
            DATABASE_URL=private_cluster,
            DJANGO_SETTINGS_MODULE=settings_module,
            DEBUG="0",
            SECRET_KEY="reliability-" + "k" * 50,
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0",
            CONN_MAX_AGE="60",
            PYTHONPATH=str(ROOT),
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "servicehub.wsgi",
                "-w",
                "1",
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "30",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}/healthz"
        for _ in range(150):
            try:
                if _get(url) == 200:
                    return url
            except OSError:
                time.sleep(0.1)
        raise AssertionError("gunicorn did not come up: " + proc.stderr.read1().decode(errors="replace"))

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def _restart_postgres():
    result = _run("pg_ctlcluster", VERSION, CLUSTER, "restart", "-m", "fast")
    assert result.returncode == 0, result.stderr


def test_requests_after_a_postgres_restart_succeed(app_server):
    url = app_server()
    assert [_get(url) for _ in range(3)] == [200, 200, 200]  # the worker now holds a persistent connection
    _restart_postgres()
    assert [_get(url) for _ in range(5)] == [200] * 5


def test_control_without_health_checks_the_first_request_after_the_restart_fails(app_server):
    url = app_server("tests.reliability.settings_no_health_checks")
    assert [_get(url) for _ in range(3)] == [200, 200, 200]
    _restart_postgres()
    after = [_get(url) for _ in range(3)]
    assert after[0] == 500  # the stale connection was reused: the harness sees the failure...
    assert after[1:] == [200, 200]  # ...and Django drops a connection that errored, so it recovers after one
