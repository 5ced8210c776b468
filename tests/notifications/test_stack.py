"""The full-stack files: docker-compose.yml (no Docker engine here, so the YAML is checked), Procfile, Dockerfile."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_text(service) -> str:
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else command


def test_compose_has_the_services_with_a_worker_per_queue(compose):
    assert set(compose["services"]) == {"postgres", "redis", "web", "worker", "webhooks", "jobs", "beat"}


def test_every_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check and check["test"], name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_web_migrates_sets_up_schedules_then_runs_gunicorn(compose):
    command = command_text(compose["services"]["web"])
    assert command.index("manage.py migrate --noinput") < command.index("manage.py setup_schedules")
    assert command.index("manage.py setup_schedules") < command.index("gunicorn servicehub.wsgi")
    assert compose["services"]["web"]["ports"] == ["${WEB_PORT:-8000}:8000"]
    assert "/healthz" in " ".join(compose["services"]["web"]["healthcheck"]["test"])


def test_worker_and_beat_commands(compose):
    worker = command_text(compose["services"]["worker"])
    beat = command_text(compose["services"]["beat"])
    assert worker.startswith("celery -A servicehub worker")
    assert "--queues ${CELERY_QUEUE:-notifications}" in worker
    assert "--queues webhooks" in command_text(compose["services"]["webhooks"])
    assert "--queues jobs" in command_text(compose["services"]["jobs"])
    assert beat.startswith("celery -A servicehub beat")
    # the schedule lives in the database (django-celery-beat), set by settings, not a local file
    assert "--scheduler" not in beat


def test_app_services_share_the_environment_and_wait_for_healthy_dependencies(compose):
    services = compose["services"]
    for name in ("web", "worker", "webhooks", "jobs", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"  # required, never a default
        assert env["DEBUG"] == "0"
        deps = services[name]["depends_on"]
        assert deps["postgres"] == {"condition": "service_healthy"}
        assert deps["redis"] == {"condition": "service_healthy"}
    # beat and worker start after web has applied migrations and schedules
    assert services["worker"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert services["beat"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_data_lives_in_volumes_and_redis_persists_the_queue(compose):
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    assert "--appendonly" in compose["services"]["redis"]["command"]
    assert set(compose["volumes"]) == {"pgdata", "redisdata"}


def test_postgres_password_is_required_from_the_environment(compose):
    assert (
        compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
        == "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
    )


def test_procfile_runs_gunicorn_worker_and_beat():
    lines = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line and not line.startswith("#")
    )
    assert set(lines) == {"web", "worker", "webhooks", "jobs", "beat"}
    assert lines["web"].split()[:2] == [".venv/bin/gunicorn", "servicehub.wsgi"]
    for name, queue in (("worker", "${CELERY_QUEUE:-notifications}"), ("webhooks", "webhooks"), ("jobs", "jobs")):
        assert lines[name].split()[:4] == [".venv/bin/celery", "-A", "servicehub", "worker"]
        assert f"--queues {queue} " in lines[name]
    assert lines["beat"].split()[:4] == [".venv/bin/celery", "-A", "servicehub", "beat"]


def test_dockerfile_builds_one_image_for_all_processes():
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("# ") and "FROM python:3.11-slim" in text
    assert "pip install -r requirements.txt" in text
    assert "USER app" in text  # not root
    assert ".venv" in (ROOT / ".dockerignore").read_text()
