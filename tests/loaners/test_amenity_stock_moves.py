"""The amenities' stock history (issue #22): each service that changes a shelf writes exactly one
``AmenityStockMove`` with the right numbers, in its transaction; a refused change writes none; the rows are kept
(PROTECT) and shown read-only to managers and HQ."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from loaners import services
from loaners.models import Amenity, AmenityStockMove
from servicehub.actors import actor_for_user
from servicehub.errors import DomainError
from tests.factories.repairs import staff

from .amenity_fixtures import PHONE, PHONE_E164

pytestmark = pytest.mark.django_db

MOVES = "/admin/loaners/amenitystockmove/"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _moves(amenity=None):
    qs = AmenityStockMove.objects.order_by("pk")
    if amenity is not None:
        qs = qs.filter(amenity=amenity)
    return list(qs.values_list("reason", "delta", "on_hand_after", "loan_id", "by_id"))


def _save(desks, amenity=None, *, on_hand, deposit="20.00", kind="umbrella", center=None):
    return services.amenity_save(
        actor=desks["actors"]["manager"],
        amenity_id=amenity.pk if amenity else None,
        center_id=(center or desks["a"]).pk,
        kind=kind,
        name_zh="雨伞",
        name_en="Umbrella",
        deposit=deposit,
        on_hand=on_hand,
    )


def test_a_count_that_changes_the_shelf_writes_one_move_with_the_difference(desks):
    manager = desks["users"]["manager"]
    umbrella = desks["umbrella"]  # 5 on the shelf
    _save(desks, umbrella, on_hand=8)
    assert _moves() == [("count", 3, 8, None, manager.pk)]
    _save(desks, umbrella, on_hand=8, deposit="25.00")  # the deposit changed, not the count
    _save(desks, umbrella, on_hand=6)
    assert _moves() == [("count", 3, 8, None, manager.pk), ("count", -2, 6, None, manager.pk)]


def test_a_new_amenity_with_stock_starts_its_history_with_the_count(desks):
    glasses = _save(desks, on_hand=4, kind="reading_glasses")
    assert _moves(glasses) == [("count", 4, 4, None, desks["users"]["manager"].pk)]
    cables = _save(desks, on_hand=0, kind="charging_cable")
    assert _moves(cables) == []


def test_a_refused_count_writes_nothing(desks):
    with pytest.raises(DomainError):
        _save(desks, desks["umbrella"], on_hand=9, deposit="-1")
    with pytest.raises(DomainError):
        services.amenity_save(
            actor=desks["actors"]["desk"],  # not a manager
            amenity_id=desks["umbrella"].pk,
            center_id=desks["a"].pk,
            kind="umbrella",
            name_zh="雨伞",
            name_en="Umbrella",
            deposit="20.00",
            on_hand=9,
        )
    assert _moves() == [] and Amenity.objects.get(pk=desks["umbrella"].pk).on_hand == 5


def test_lend_return_and_lost_each_write_one_move(desks):
    desk = desks["users"]["desk"]
    umbrella = desks["umbrella"]
    loan = services.amenity_lend(
        amenity_id=umbrella.pk,
        borrower_name="王阿姨",
        borrower_phone=PHONE,
        payment_method="cash",
        actor=desks["actors"]["desk"],
    )
    assert _moves() == [("lend", -1, 4, loan.pk, desk.pk)]
    services.amenity_return(loan_id=loan.pk, actor=desks["actors"]["desk"])
    assert _moves()[1:] == [("return", 1, 5, loan.pk, desk.pk)]
    second = services.amenity_lend(
        amenity_id=umbrella.pk,
        borrower_name="王阿姨",
        borrower_phone=PHONE,
        payment_method="cash",
        actor=desks["actors"]["desk"],
    )
    services.amenity_mark_lost(loan_id=second.pk, actor=desks["actors"]["desk"], note="没有回来")
    assert _moves()[2:] == [("lend", -1, 4, second.pk, desk.pk), ("lost", 0, 4, second.pk, desk.pk)]
    assert AmenityStockMove.objects.get(reason="lost").note == "没有回来"
    assert Amenity.objects.get(pk=umbrella.pk).on_hand == 4


def test_a_return_at_another_center_moves_that_centers_shelf(desks):
    loan = services.amenity_lend(
        amenity_id=desks["umbrella"].pk,
        borrower_name="王阿姨",
        borrower_phone=PHONE,
        payment_method="cash",
        actor=desks["actors"]["desk"],
    )
    services.amenity_return(
        loan_id=loan.pk, actor=desks["actors"]["desk_b"], center_id=desks["b"].pk, borrower_phone=PHONE_E164
    )
    assert _moves(desks["umbrella_b"]) == [("return", 1, 2, loan.pk, desks["users"]["desk_b"].pk)]
    assert _moves(desks["umbrella"]) == [("lend", -1, 4, loan.pk, desks["users"]["desk"].pk)]


def test_a_refused_lend_writes_no_move(desks):
    actor = desks["actors"]["desk"]
    services.amenity_lend(
        amenity_id=desks["umbrella"].pk, borrower_name="甲", borrower_phone=PHONE, payment_method="cash", actor=actor
    )
    before = _moves()
    with pytest.raises(DomainError) as twice:  # this phone has one out
        services.amenity_lend(
            amenity_id=desks["umbrella"].pk,
            borrower_name="甲",
            borrower_phone=PHONE,
            payment_method="cash",
            actor=actor,
        )
    assert twice.value.code == "amenity_loan_exists"
    Amenity.objects.filter(pk=desks["power_bank"].pk).update(on_hand=0)
    with pytest.raises(DomainError) as empty:
        services.amenity_lend(
            amenity_id=desks["power_bank"].pk, borrower_name="乙", borrower_phone="13900001111", actor=actor
        )
    assert empty.value.code == "amenity_unavailable"
    assert _moves() == before


def test_moves_are_protected_from_deletion(desks):
    _save(desks, desks["umbrella"], on_hand=7)
    with pytest.raises(ProtectedError):
        Amenity.objects.filter(pk=desks["umbrella"].pk).delete()


def test_the_history_page_is_read_only_for_managers_and_scoped(client, desks, django_assert_num_queries):
    _save(desks, desks["umbrella"], on_hand=7)
    b_manager = staff(desks["b"], "manager", username="am-manager-b")
    services.amenity_save(
        actor=actor_for_user(b_manager),
        amenity_id=desks["umbrella_b"].pk,
        center_id=desks["b"].pk,
        kind="umbrella",
        name_zh="雨伞",
        name_en="Umbrella",
        deposit="20.00",
        on_hand=3,
    )
    client.force_login(desks["users"]["manager"], backend=BACKEND)
    with CaptureQueriesContext(connection) as one:
        page = client.get(MOVES)
    assert page.status_code == 200
    html = page.content.decode()
    mine = AmenityStockMove.objects.get(amenity=desks["umbrella"])
    theirs = AmenityStockMove.objects.get(amenity=desks["umbrella_b"])
    assert f"{MOVES}{mine.pk}/change/" in html and f"{MOVES}{theirs.pk}/change/" not in html
    assert "+2" in html and f"{MOVES}add/" not in html
    for n in range(3):
        _save(desks, desks["umbrella"], on_hand=8 + n)
    with django_assert_num_queries(len(one.captured_queries)):  # does not grow with the rows
        assert client.get(MOVES).status_code == 200
    assert len(one.captured_queries) <= 12
    detail = client.get(f"{MOVES}{mine.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert client.post(f"{MOVES}{mine.pk}/delete/").status_code == 403
    assert AmenityStockMove.objects.count() == 5
    client.force_login(desks["users"]["desk"], backend=BACKEND)  # the front desk: not the history
    assert client.get(MOVES).status_code == 403
