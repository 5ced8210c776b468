"""Front-desk admin: check-in with lookup, receipt with QR, the ticket page's action buttons, list scoping."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from repairs.models import RepairTicket
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import run, staff, walk_in
from tests.factories.warranty import DeviceFactory, make_imei

pytestmark = pytest.mark.django_db


def login(user):
    c = Client()
    c.force_login(user)
    return c


def test_check_in_page_looks_up_customer_device_coverage_and_history(
    center, people, ops, model, django_assert_max_num_queries
):
    device = DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=30))
    earlier = walk_in(center, people["desk"], device=device, phone="13812345678", name="王小明")
    c = login(people["desk"].user)
    url = reverse("admin:repairs_repairticket_checkin")
    assert c.get(url).status_code == 200
    r = c.post(
        url,
        {
            "center": center.pk,
            "phone": "13812345678",
            "imei": device.imei,
            "channel": "walk_in",
            "fault_category": "screen",
            "lookup": "1",
        },
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert "王小明" in html
    assert 'id="coverage"' in html and "in warranty" in html
    assert earlier.service_no in html  # history
    assert RepairTicket.objects.count() == 1  # lookup only


def test_check_in_creates_ticket_and_prints_receipt_with_qr(center, people, model):
    c = login(people["desk"].user)
    imei = make_imei()
    r = c.post(
        reverse("admin:repairs_repairticket_checkin"),
        {
            "center": center.pk,
            "phone": "13900001111",
            "name": "李雷",
            "contact_consent": "",
            "imei": imei,
            "model": model.code,
            "sold_on": "2025-01-02",
            "proof_note": "invoice 123",
            "channel": "walk_in",
            "fault_category": "battery",
            "fault_description": "drains fast",
            "accessories": "case, charger",
            "appearance_notes": "scratch on back",
            "repair_mode_enabled": "on",
            "data_backup_consent": "on",
            "check_in": "1",
        },
    )
    ticket = RepairTicket.objects.get()
    assert r.status_code == 302
    assert r["Location"] == reverse("admin:repairs_repairticket_receipt", args=[ticket.pk]) + "?checked_in=1"
    assert (ticket.status, ticket.accessories, ticket.repair_mode_enabled, ticket.data_backup_consent) == (
        "received",
        ["case", "charger"],
        True,
        True,
    )
    assert ticket.customer.contact_consent is False
    assert ticket.device.proof_of_purchase_note == "invoice 123"
    receipt = c.get(r["Location"]).content.decode()
    assert ticket.service_no in receipt
    assert "<svg" in receipt
    assert f"/track/{ticket.service_no}/" in receipt
    assert "Terms" in receipt


def test_check_in_bad_phone_shows_error_and_saves_nothing(center, people, model):
    c = login(people["desk"].user)
    r = c.post(
        reverse("admin:repairs_repairticket_checkin"),
        {
            "center": center.pk,
            "phone": "123",
            "name": "李雷",
            "imei": make_imei(),
            "model": model.code,
            "channel": "walk_in",
            "fault_category": "screen",
            "check_in": "1",
        },
    )
    assert r.status_code == 200
    assert "Enter a valid phone number." in r.content.decode()
    assert RepairTicket.objects.count() == 0


def test_ticket_page_shows_only_allowed_buttons_and_they_work(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    eng = login(people["eng"].user)
    page = eng.get(reverse("admin:repairs_repairticket_change", args=[t.pk])).content.decode()
    assert 'value="start_diagnosis"' in page
    assert 'value="hand_over"' not in page
    assert "/admin/loaners/loan/checkout/?ticket=" + t.service_no in page
    r = eng.post(
        reverse("admin:repairs_repairticket_transition", args=[t.pk]), {"action": "start_diagnosis", "note": "ok"}
    )
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.status == "diagnosing"
    # the quote form prices and sends the quote
    r = eng.post(reverse("admin:repairs_repairticket_quote", args=[t.pk]), {"repairs": ["screen"], "note": ""})
    t.refresh_from_db()
    assert t.status == "awaiting_approval"
    page = eng.get(reverse("admin:repairs_repairticket_change", args=[t.pk])).content.decode()
    assert "659.00" in page and 'id="ticket-quote"' in page


def test_refused_button_shows_admin_error_and_changes_nothing(center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    desk = login(people["desk"].user)
    r = desk.post(reverse("admin:repairs_repairticket_transition", args=[t.pk]), {"action": "finish"}, follow=True)
    assert r.status_code == 200
    msgs = [str(m) for m in r.context["messages"]]
    assert any("not possible" in m for m in msgs)
    t.refresh_from_db()
    assert t.status == "received"


def test_status_is_not_editable(center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    desk = login(people["desk"].user)
    url = reverse("admin:repairs_repairticket_change", args=[t.pk])
    desk.post(url, {"status": "closed"})
    t.refresh_from_db()
    assert t.status == "received"


def test_list_scoped_to_own_centers_with_filters(center, people, model, django_assert_max_num_queries):
    mine = walk_in(center, people["desk"], device=DeviceFactory(model=model))
    other = ServiceCenterFactory()
    from servicehub.actors import actor_for_user

    theirs = walk_in(other, actor_for_user(staff(other)), device=DeviceFactory(model=model), phone="13700000000")
    c = login(people["desk"].user)
    url = reverse("admin:repairs_repairticket_changelist")
    html = c.get(url).content.decode()
    assert mine.service_no in html and theirs.service_no not in html
    for qs in ("?status__exact=received", "?channel__exact=walk_in", "?overdue=no", "?today=created", "?today=open"):
        assert mine.service_no in c.get(url + qs).content.decode(), qs
    assert mine.service_no not in c.get(url + "?overdue=yes").content.decode()
    # another center's ticket page is not reachable
    assert c.get(reverse("admin:repairs_repairticket_change", args=[theirs.pk])).status_code in (302, 404)
    assert (
        c.post(reverse("admin:repairs_repairticket_transition", args=[theirs.pk]), {"action": "cancel"}).status_code
        == 404
    )


def test_engineer_filter(center, people, ops, model):
    t = walk_in(center, people["desk"], device=DeviceFactory(model=model))
    run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], {"lines": [{"repair": "screen"}]}),
        ("start_repair", people["eng"]),
    )
    c = login(people["desk"].user)
    url = reverse("admin:repairs_repairticket_changelist")
    assert t.service_no in c.get(f"{url}?engineer={people['eng'].user.pk}").content.decode()
    assert t.service_no not in c.get(f"{url}?engineer={people['eng2'].user.pk}").content.decode()
