"""Races against PostgreSQL: a day closes once, a ticket gets one fapiao request.

Each test has a control run with the row locks taken out, showing the harness catches the double write.
"""

import pytest
from django.db import IntegrityError
from django.utils import timezone

from accounting import services
from accounting.models import DailyClose, DailyCloseHistory, FapiaoRequest
from servicehub.errors import DomainError
from tests.concurrency import first_read_barrier, race_collect
from tests.factories.payments import pay

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 6


def unlocked_lock_one_all_read(n):
    """The bug the lock prevents: read the row without locking it; every thread reads before any decides."""
    wait = first_read_barrier(n)

    def lock_one(target, pk=None, *, not_found=None, timeout=None):
        row = target.objects.get(pk=pk)
        wait()
        return row

    return lock_one


def close_today(center, actor):
    return lambda: services.daily_close_close(
        actor=actor, center_id=center.pk, business_date=timezone.localdate(), cash_counted="100.00"
    ).pk


@pytest.fixture
def reopened_day(center, actors, ticket):
    pay(ticket, "100.00", "cash")
    close = services.daily_close_close(
        actor=actors["desk"], center_id=center.pk, business_date=timezone.localdate(), cash_counted="100.00"
    )
    services.daily_close_reopen(actor=actors["hq"], close_id=close.pk, reason="recount")
    return close


def test_people_closing_a_fresh_day_at_once_close_it_once(center, actors, ticket):
    pay(ticket, "100.00", "cash")
    results, errors = race_collect(close_today(center, actors["desk"]), THREADS)
    assert len(results) == 1
    assert sorted(e.code for e in errors) == ["day_closed"] * (THREADS - 1)
    assert DailyClose.objects.count() == 1 and DailyCloseHistory.objects.count() == 1


def test_people_closing_a_reopened_day_at_once_close_it_once(center, actors, reopened_day):
    results, errors = race_collect(close_today(center, actors["desk"]), THREADS)
    assert len(results) == 1 and all(isinstance(e, DomainError) and e.code == "day_closed" for e in errors)
    assert DailyCloseHistory.objects.filter(action="closed").count() == 2  # the first close and this one


def test_control_without_the_locks_a_reopened_day_closes_twice(center, actors, reopened_day, monkeypatch):
    monkeypatch.setattr(services, "lock_one", unlocked_lock_one_all_read(THREADS))
    results, _errors = race_collect(close_today(center, actors["desk"]), THREADS)
    assert len(results) > 1  # the harness does catch a double close
    assert DailyCloseHistory.objects.filter(action="closed").count() > 2


def request_fapiao(ticket, actor):
    return lambda: services.fapiao_request(actor=actor, ticket_id=ticket.pk, buyer_type="person", title="王小明").pk


def test_requests_racing_for_one_ticket_make_one_fapiao(actors, ticket):
    pay(ticket, "100.00", "cash")
    results, errors = race_collect(request_fapiao(ticket, actors["desk"]), THREADS)
    assert len(results) == 1
    assert sorted(e.code for e in errors) == ["fapiao_exists"] * (THREADS - 1)
    assert FapiaoRequest.objects.count() == 1


def test_control_without_the_ticket_lock_the_requests_collide(actors, ticket, monkeypatch):
    pay(ticket, "100.00", "cash")
    monkeypatch.setattr(services, "lock_one", unlocked_lock_one_all_read(THREADS))
    results, errors = race_collect(request_fapiao(ticket, actors["desk"]), THREADS)
    # Every thread passed the "already requested?" check; only the database's unique constraint stopped them.
    assert any(isinstance(e, IntegrityError) for e in errors)
    assert FapiaoRequest.objects.count() == 1 and len(results) == 1
