"""Race against PostgreSQL (visits): two desks giving the same phone the same free perk at once give it once.

With the savepoint's translation taken out (the control), the loser crashes on the constraint: the harness
would catch a bug."""

from __future__ import annotations

import pytest

from outreach import visits
from outreach.models import PerkRedemption, Visit
from servicehub.errors import DomainError
from tests.concurrency import race_collect

from .visits_fixtures import PHONE, desk  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 6


def _perk(d):
    return lambda: visits.visit_record(
        actor=d["actors"]["desk"], center_id=d["sd"].pk, service="free_screen_film", phone=PHONE
    ).pk


def _no_precheck(monkeypatch):
    """Every thread passes the early "already used?" read (as when they all read before anyone writes)."""
    real_filter = PerkRedemption.objects.filter

    class Blind:
        def exists(self):
            return False

    def filter_(*args, **kwargs):
        return Blind() if "phone_hash" in kwargs else real_filter(*args, **kwargs)

    monkeypatch.setattr(PerkRedemption.objects, "filter", filter_)


def test_two_desks_at_once_give_one_free_perk(desk, monkeypatch):  # noqa: F811
    _no_precheck(monkeypatch)
    results, errors = race_collect(_perk(desk), THREADS)
    assert len(results) == 1 and PerkRedemption.objects.count() == 1 and Visit.objects.count() == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, DomainError) and e.code == "perk_already_used" for e in errors), errors


def test_control_without_the_translation_losers_crash(desk, monkeypatch):  # noqa: F811
    from outreach.visits import phone_key

    def raw(*, visit, service, e164, period):
        return PerkRedemption.objects.create(
            visit=visit, service=service, phone_hash=phone_key(e164), phone_last4=e164[-4:], period=period
        )

    _no_precheck(monkeypatch)
    monkeypatch.setattr(visits, "_redeem", raw)
    results, errors = race_collect(_perk(desk), THREADS)
    assert PerkRedemption.objects.count() == 1  # the constraint still holds...
    assert any(not isinstance(e, DomainError) for e in errors), errors  # ...but as a 500, not a code
