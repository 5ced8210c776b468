"""Two Service Day generators at once (e.g. the monthly job and a manual run) on PostgreSQL."""

import threading

import pytest
from django.db import IntegrityError, connection

from centers.models import ServiceDay
from centers.services import service_days_generate
from tests.factories.centers import ServiceCenterFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(monkeypatch, *, ignore_conflicts_forced_off: bool) -> list:
    """Run two generators whose inserts are lined up by a barrier; return what each raised."""
    barrier = threading.Barrier(2, timeout=10)
    manager = ServiceDay.objects  # the same manager instance every time
    original = manager.bulk_create

    def lined_up(objs, *args, **kwargs):
        if ignore_conflicts_forced_off:
            kwargs["ignore_conflicts"] = False  # the CONTROL: the protection switched off
        barrier.wait()
        return original(objs, *args, **kwargs)

    monkeypatch.setattr(manager, "bulk_create", lined_up)
    errors: list = []

    def run():
        try:
            service_days_generate(year=2026, month=12)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    monkeypatch.undo()
    return errors


def test_two_generators_at_once_create_each_day_once(monkeypatch):
    centers = [ServiceCenterFactory() for _ in range(5)]
    errors = _race(monkeypatch, ignore_conflicts_forced_off=False)
    assert errors == []
    assert ServiceDay.objects.count() == 3 * len(centers)


def test_control_without_ignore_conflicts_the_race_is_caught(monkeypatch):
    """CONTROL: with ``ignore_conflicts`` switched off the same race raises a unique violation,
    so the harness really makes the two inserts collide."""
    centers = [ServiceCenterFactory() for _ in range(5)]
    errors = _race(monkeypatch, ignore_conflicts_forced_off=True)
    assert len(errors) == 1 and isinstance(errors[0], IntegrityError)
    assert ServiceDay.objects.count() == 3 * len(centers)  # the winner's rows, nothing doubled
