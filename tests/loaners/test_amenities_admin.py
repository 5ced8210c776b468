"""The amenity desk page and the staff admin (issue #22): lend, return, lost, a return from another center; who may
use them; query counts that do not grow with the loans."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loaners import services
from loaners.models import Amenity, AmenityLoan
from payments.models import Payment, Refund

from .amenity_fixtures import PHONE, PHONE_E164

pytestmark = pytest.mark.django_db

DESK = "/admin/loaners/amenityloan/desk/"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


def _lend(desks, phone, amenity="umbrella"):
    return services.amenity_lend(
        amenity_id=desks[amenity].pk,
        borrower_name="客人",
        borrower_phone=phone,
        payment_method="cash",
        actor=desks["actors"]["desk"],
    )


def test_desk_page_query_count_does_not_grow_with_loans(client, desks):
    login(client, desks["users"]["desk"])
    _lend(desks, "13800000001")
    one = _queries(client, DESK)
    for n in range(4):
        _lend(desks, f"1380000001{n}")
    _lend(desks, "13800000020", "power_bank")
    assert _queries(client, DESK) == one <= 14


def test_lend_return_and_lost_on_the_desk_page(client, desks):
    login(client, desks["users"]["desk"])
    page = client.post(
        DESK,
        {
            "center": "SC-AM1",
            "amenity": desks["umbrella"].pk,
            "borrower_name": "王阿姨",
            "borrower_phone": PHONE,
            "payment_method": "cash",
        },
        follow=True,
    )
    loan = AmenityLoan.objects.get()
    payment = Payment.objects.get(amenity_loan=loan)
    assert payment.receipt_no in page.content.decode()
    assert f'id="loan-{loan.pk}"' in page.content.decode()
    client.post(DESK, {"center": "SC-AM1", "return": loan.pk})
    loan.refresh_from_db()
    assert loan.status == "returned" and Refund.objects.get().amount == Decimal("20.00")
    other = _lend(desks, "13800000002")
    client.post(DESK, {"center": "SC-AM1", "lost": other.pk})
    other.refresh_from_db()
    assert other.status == "lost" and Refund.objects.count() == 1
    assert Amenity.objects.get(pk=desks["umbrella"].pk).on_hand == 4


def test_a_refusal_is_shown_in_words_and_writes_nothing(client, desks):
    login(client, desks["users"]["desk"])
    body = {"center": "SC-AM1", "amenity": desks["umbrella"].pk, "borrower_name": "王", "borrower_phone": "12"}
    page = client.post(DESK, {**body, "payment_method": "cash"}, follow=True)
    assert "Enter a valid phone number." in page.content.decode()
    page = client.post(DESK, {**body, "borrower_phone": PHONE, "payment_method": ""}, follow=True)
    assert "Choose how the deposit is paid." in page.content.decode()
    assert not AmenityLoan.objects.exists() and not Payment.objects.exists()


def test_brought_back_to_another_center_by_phone(client, desks):
    loan = _lend(desks, PHONE)
    login(client, desks["users"]["desk_b"])
    # B cannot take A's loan back by its id
    client.post(DESK, {"center": "SC-AM2", "return": loan.pk})
    loan.refresh_from_db()
    assert loan.status == "out"
    page = client.post(
        DESK,
        {"center": "SC-AM2", "elsewhere": "1", "elsewhere_kind": "umbrella", "elsewhere_phone": "13900000000"},
        follow=True,
    )
    assert "No such amenity is out for this phone number." in page.content.decode()
    client.post(DESK, {"center": "SC-AM2", "elsewhere": "1", "elsewhere_kind": "umbrella", "elsewhere_phone": PHONE})
    loan.refresh_from_db()
    assert (loan.status, loan.returned_at_center, loan.borrower_phone) == ("returned", desks["b"], PHONE_E164)
    assert Amenity.objects.get(pk=desks["umbrella_b"].pk).on_hand == 2


def test_who_may_use_the_desk_and_the_admin(client, desks):
    login(client, desks["users"]["eng"])
    assert client.get(DESK).status_code == 403
    login(client, desks["users"]["desk_b"])
    page = client.get(DESK + "?center=SC-AM1")  # not theirs: no desk opens, nothing of A is shown
    assert page.status_code == 200 and page.context["center"] is None and "out" not in page.context
    login(client, desks["users"]["desk"])
    assert client.get("/admin/loaners/amenity/add/").status_code == 403  # managers set up the shelf
    assert client.get("/admin/loaners/amenityloan/").status_code == 200
    login(client, desks["users"]["manager"])
    change = f"/admin/loaners/amenity/{desks['umbrella'].pk}/change/"
    form = {
        "center": desks["a"].pk,
        "kind": "umbrella",
        "name_zh": "雨伞",
        "name_en": "Umbrella",
        "deposit": "25.00",
        "on_hand": "9",
        "loan_days": "2",
        "active": "on",
        "position": "0",
    }
    assert client.post(change, form).status_code == 302
    umbrella = Amenity.objects.get(pk=desks["umbrella"].pk)
    assert (umbrella.on_hand, umbrella.deposit, umbrella.loan_days) == (9, Decimal("25.00"), 2)


def test_loans_list_filters_overdue_and_is_scoped(client, desks):
    loan = _lend(desks, PHONE)
    AmenityLoan.objects.filter(pk=loan.pk).update(
        lent_at=loan.lent_at.replace(year=2025), due_back_at=loan.due_back_at.replace(year=2025)
    )
    _lend(desks, "13800000002")
    login(client, desks["users"]["desk"])
    page = client.get("/admin/loaners/amenityloan/?overdue=yes")
    assert list(page.context["cl"].result_list) == [AmenityLoan.objects.get(pk=loan.pk)]
    assert "5678" in page.content.decode() and PHONE_E164 not in page.content.decode()
    searched = client.get("/admin/loaners/amenityloan/", {"q": "138 1234 5678"})
    assert [r.pk for r in searched.context["cl"].result_list] == [loan.pk]
    login(client, desks["users"]["desk_b"])
    assert client.get("/admin/loaners/amenityloan/").context["cl"].result_count == 0
    assert client.get(f"/admin/loaners/amenityloan/{loan.pk}/change/").status_code in (302, 403, 404)


def test_the_visits_desk_links_the_amenity_desk(client, desks):
    login(client, desks["users"]["desk"])
    page = client.get("/admin/outreach/visit/desk/")
    assert 'id="open-amenity-desk"' in page.content.decode()
    assert "/admin/loaners/amenityloan/desk/?center=SC-AM1" in page.content.decode()


def test_hq_figure_amenity_loans_this_month_and_deposits_held(client, desks, settings):
    from ops.figures import Ctx, amenity_loans
    from tests.outreach.visits_fixtures import hq_user

    settings.OPS_FIGURE_CACHE_SECONDS = 0
    _lend(desks, "13800000001")
    lost = _lend(desks, "13800000002")
    _lend(desks, "13800000003", "power_bank")
    services.amenity_mark_lost(loan_id=lost.pk, actor=desks["actors"]["desk"])
    table = amenity_loans(Ctx.build(center_ids=None))
    rows = {(r["center"], r["kind"]): r for r in table.rows}
    umbrella = rows[("SC-AM1", "umbrella")]
    assert (umbrella["lent"], umbrella["lost"], umbrella["out"], umbrella["kept"]) == (2, 1, 1, Decimal("20.00"))
    assert umbrella["held"] == Decimal("20.00") or rows[("SC-AM1", "power_bank")]["held"] == Decimal("20.00")
    assert table.summary[list(table.summary)[1]] == Decimal("20.00")  # deposits held now: the one umbrella out
    scoped = amenity_loans(Ctx.build(center_ids=frozenset({desks["b"].pk})))
    assert scoped.rows == []
    login(client, hq_user("am-hq"))
    page = client.get("/admin/ops/hq/")
    assert page.status_code == 200 and 'id="fig-amenity_loans"' in page.content.decode()


def test_the_deposit_receipt_names_the_borrower_masked(client, desks):
    from django.db import transaction

    from payments.receipts import receipt_path
    from payments.services import amenity_deposit_take

    with transaction.atomic():
        loan = _lend(desks, PHONE)
        payment = amenity_deposit_take(amenity_loan_id=loan.pk, actor=desks["actors"]["desk"])
    login(client, desks["users"]["desk"])
    page = client.get(f"/admin/payments/payment/{payment.pk}/receipt/")
    assert page.status_code == 200
    html = page.content.decode()
    assert payment.receipt_no in html and "20.00" in html and "客*" in html and "客人" not in html
    public = client.get(receipt_path(payment.pk))
    assert public.status_code == 200 and "客*" in public.content.decode()
    login(client, desks["users"]["desk_b"])
    assert client.get(f"/admin/payments/payment/{payment.pk}/receipt/").status_code == 404
