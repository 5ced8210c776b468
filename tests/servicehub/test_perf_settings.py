"""Settings that the hot paths rely on: cached templates, gzip, the three Celery queues."""

import pytest
from celery.app.routes import MapRoute
from django.template import engines


def test_templates_are_compiled_once_per_process():
    loaders = engines["django"].engine.template_loaders
    assert [type(loader).__module__ + "." + type(loader).__name__ for loader in loaders] == [
        "django.template.loaders.cached.Loader"
    ]


@pytest.mark.django_db
def test_html_is_gzipped_when_the_client_accepts_it(client):
    plain = client.get("/")
    gzipped = client.get("/", headers={"accept-encoding": "gzip"})
    assert plain.status_code == gzipped.status_code == 200
    assert "Content-Encoding" not in plain
    assert gzipped["Content-Encoding"] == "gzip"
    assert len(gzipped.content) < len(plain.content) / 2
    assert "Accept-Encoding" in gzipped["Vary"]


def test_every_task_lands_on_one_of_the_three_queues(settings):
    from servicehub.celery import app

    app.loader.import_default_modules()
    route = MapRoute(settings.CELERY_SPLIT_ROUTES)
    queues = {}
    for name in sorted(app.tasks):
        if name.startswith("celery."):
            continue
        found = route(name)
        queues[name] = found["queue"] if found else "jobs"  # CELERY_TASK_DEFAULT_QUEUE in split mode
    assert queues["notifications.send"] == "notifications"
    assert queues["notifications.sweep"] == "notifications"
    assert queues["partners.tasks.webhook_deliver"] == "webhooks"
    assert queues["partners.tasks.webhook_deliveries_sweep"] == "webhooks"
    assert queues["jobs.sla_watch"] == "jobs"
    assert queues["warranty.tasks.plan_purchases_expire"] == "jobs"
    assert set(queues.values()) == {"notifications", "webhooks", "jobs"}


def test_split_is_off_under_tests_and_with_an_explicit_queue(settings):
    # Tests (and CELERY_QUEUE=...) put every task on one queue: the integration workers listen there.
    assert settings.CELERY_SPLIT_QUEUES is False
    assert not getattr(settings, "CELERY_TASK_ROUTES", None)
