"""The Amenity admin keeps what the manager typed when the service refuses a save (issue #22): the refusal shows
on its field (``DomainError.field``), the form comes back with the typed values, and nothing is saved."""

from __future__ import annotations

from decimal import Decimal

import pytest

from loaners.models import Amenity, AmenityStockMove

pytestmark = pytest.mark.django_db
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _form(desks, **changes):
    return {
        "center": desks["a"].pk,
        "kind": "umbrella",
        "name_zh": "长柄雨伞",
        "name_en": "Long umbrella",
        "deposit": "25.00",
        "on_hand": "9",
        "loan_days": "2",
        "active": "on",
        "position": "0",
        **changes,
    }


def _field_errors(response, field):
    return [str(e) for e in response.context["adminform"].form.errors.get(field, [])]


@pytest.fixture
def manager(client, desks):
    client.force_login(desks["users"]["manager"], backend=BACKEND)
    return client


def _unchanged(desks):
    umbrella = Amenity.objects.get(pk=desks["umbrella"].pk)
    assert (umbrella.name_zh, umbrella.deposit, umbrella.on_hand, umbrella.loan_days) == (
        "雨伞",
        Decimal("20.00"),
        5,
        3,
    )
    assert not AmenityStockMove.objects.exists()


def test_a_negative_deposit_is_an_error_on_the_deposit_with_the_typed_values_kept(manager, desks):
    url = f"/admin/loaners/amenity/{desks['umbrella'].pk}/change/"
    r = manager.post(url, _form(desks, deposit="-5.00"))
    assert r.status_code == 200
    assert _field_errors(r, "deposit") == ["The deposit cannot be negative."]
    html = r.content.decode()
    assert 'value="-5.00"' in html and 'value="长柄雨伞"' in html and 'value="9"' in html
    assert "Constraint" not in html  # the model's check is not shown on top of the service's words
    _unchanged(desks)


def test_a_stock_over_the_limit_is_an_error_on_the_count(manager, desks):
    url = f"/admin/loaners/amenity/{desks['umbrella'].pk}/change/"
    r = manager.post(url, _form(desks, on_hand="20000"))
    assert r.status_code == 200
    assert _field_errors(r, "on_hand") == ["Enter how many are on the shelf (0 to 10000)."]
    assert 'value="20000"' in r.content.decode()
    _unchanged(desks)


def test_a_kind_the_center_has_already_is_an_error_on_the_kind(manager, desks):
    r = manager.post("/admin/loaners/amenity/add/", _form(desks, kind="power_bank", name_zh="新充电宝"))
    assert r.status_code == 200
    assert _field_errors(r, "kind") == ["This center has this kind of amenity already."]
    assert 'value="新充电宝"' in r.content.decode()
    assert Amenity.objects.filter(center=desks["a"]).count() == 2


def test_the_fixed_form_saves(manager, desks, django_assert_max_num_queries):
    url = f"/admin/loaners/amenity/{desks['umbrella'].pk}/change/"
    manager.post(url, _form(desks, deposit="-5.00"))
    with django_assert_max_num_queries(40):  # the save, its history row, the admin log, the session
        r = manager.post(url, _form(desks, deposit="15.00"))
    assert r.status_code == 302
    umbrella = Amenity.objects.get(pk=desks["umbrella"].pk)
    assert (umbrella.name_zh, umbrella.deposit, umbrella.on_hand) == ("长柄雨伞", Decimal("15.00"), 9)
    assert list(AmenityStockMove.objects.values_list("reason", "delta", "on_hand_after")) == [("count", 4, 9)]


def test_the_refused_page_asks_a_bounded_number_of_queries(manager, desks, django_assert_num_queries):
    url = f"/admin/loaners/amenity/{desks['umbrella'].pk}/change/"
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        assert manager.post(url, _form(desks, deposit="-5.00")).status_code == 200
    assert len(first.captured_queries) <= 20
    with django_assert_num_queries(len(first.captured_queries)):
        assert manager.post(url, _form(desks, on_hand="20000")).status_code == 200
