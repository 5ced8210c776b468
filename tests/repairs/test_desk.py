"""The counter (non-browser): phone forms in the lookup and list search, no leak of another center's
customers or service numbers, the open-ticket guard, booked check-in, receipt, bench and today pages
with query counts that do not grow with rows."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment
from repairs import selectors, services
from repairs.models import RepairTicket
from servicehub.actors import actor_for_user
from servicehub.errors import DomainError
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import run, staff, walk_in
from tests.factories.warranty import DeviceFactory

pytestmark = pytest.mark.django_db

FREE = {"lines": [{"repair": "screen"}]}  # the device is in warranty: a free quote, repair starts at once
CHECKIN = "admin:repairs_repairticket_checkin"


def login(user):
    c = Client()
    c.force_login(user)
    return c


def lookup(c, center, **data):
    return c.post(
        reverse(CHECKIN), {"center": center.pk, "channel": "walk_in", "fault_category": "screen", "lookup": "1", **data}
    )


def booked(center, *, device, phone="13900007777", name="张三", fault="battery", description="电池鼓包", start=None):
    customer = services.customer_get_or_create(name=name, phone=phone)
    ticket = services.ticket_book(
        center=center, customer=customer, device=device, fault_category=fault, fault_description=description
    )
    # today at noon, local time: "today" whatever the hour the test runs
    start = start or timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    Appointment.objects.create(
        ticket=ticket,
        center=center,
        start=start,
        end=start + dt.timedelta(minutes=30),
        customer=customer,
        device=device,
        issue=description,
    )
    return ticket


@pytest.fixture
def elsewhere(model):
    """Another center with its own desk and a ticket for a customer who never came to ``center``."""
    other = ServiceCenterFactory(name="别家中心")
    desk = actor_for_user(staff(other, "front_desk"))
    device = DeviceFactory(model=model)
    t = walk_in(other, desk, device=device, phone="13700001234", name="赵六一")
    return {"center": other, "ticket": t, "device": device, "desk": desk}


# --- phone forms --------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["13800138000", "138 0013 8000", "+8613800138000", "0086 138 0013 8000"])
def test_lookup_finds_the_customer_by_phone_in_any_form(center, people, model, typed):
    walk_in(center, people["desk"], device=DeviceFactory(model=model), phone="13800138000", name="王小明")
    html = lookup(login(people["desk"].user), center, phone=typed).content.decode()
    assert '<span class="">王小明 (+8613800138000)</span>' in html


@pytest.mark.parametrize("typed", ["13800138000", "138 0013 8000", "+86 138 0013 8000", "0086 13800138000"])
def test_list_search_finds_the_ticket_by_phone_in_any_form(center, people, model, typed):
    mine = walk_in(center, people["desk"], device=DeviceFactory(model=model), phone="13800138000")
    other = walk_in(center, people["desk"], device=DeviceFactory(model=model), phone="13900139000")
    html = (
        login(people["desk"].user).get(reverse("admin:repairs_repairticket_changelist"), {"q": typed}).content.decode()
    )
    assert mine.service_no in html
    assert other.service_no not in html


def test_list_search_takes_a_service_number_as_typed(center, people, model):
    t = walk_in(center, people["desk"], device=DeviceFactory(model=model))
    typed = f"{t.service_no[:4].lower()}-{t.service_no[4:]}"
    html = (
        login(people["desk"].user).get(reverse("admin:repairs_repairticket_changelist"), {"q": typed}).content.decode()
    )
    assert f">{t.service_no}</a>" in html


# --- no leak ---------------------------------------------------------------------------------------------


def test_phone_of_another_centers_customer_shows_only_masked_contact(center, people, elsewhere):
    html = lookup(login(people["desk"].user), center, phone="13700001234").content.decode()
    assert "赵*一 (137****1234)" in html
    # (the number the desk typed is echoed in its own field; the stored one never appears)
    for secret in ("赵六一", "+8613700001234", elsewhere["ticket"].service_no):
        assert secret not in html, secret
    # and the form is not filled with them
    assert 'name="name" value=' not in html


def test_device_history_at_another_center_has_date_center_fault_outcome_only(center, people, elsewhere):
    d = elsewhere["device"]
    html = lookup(login(people["desk"].user), center, imei=d.imei).content.decode()
    assert "别家中心" in html and 'id="history"' in html
    assert "Received, waiting for diagnosis" in html  # the outcome, in staff words
    for secret in (elsewhere["ticket"].service_no, "赵六一", "13700001234", "+8613700001234"):
        assert secret not in html, secret
    assert "1 open ticket at another center." in html


def test_selector_rows_of_another_center_carry_no_number_and_no_link(people, elsewhere):
    out = selectors.desk_lookup(actor=people["desk"], imei=elsewhere["device"].imei)
    assert [(r["mine"], r["service_no"], r["pk"]) for r in out["history"]] == [(False, "", None)]
    assert out["open_tickets"] == [] and out["other_open"] == 1
    assert "phone" not in out["prefill"] and "name" not in out["prefill"]


def test_another_centers_booking_number_looks_unknown(center, people, model):
    other = ServiceCenterFactory()
    theirs = booked(other, device=DeviceFactory(model=model), phone="13600001111", name="钱七七")
    html = lookup(login(people["desk"].user), center, service_no=theirs.service_no).content.decode()
    assert "No booking with this service number waits at your center." in html
    assert "钱七七" not in html and "13600001111" not in html


def test_engineer_sees_masked_customers_in_the_list_and_desk_in_full(center, people, model):
    walk_in(center, people["desk"], device=DeviceFactory(model=model), phone="13800138000", name="王小明")
    url = reverse("admin:repairs_repairticket_changelist")
    desk = login(people["desk"].user).get(url).content.decode()
    eng = login(people["eng"].user).get(url).content.decode()
    assert "王小明<br><small>+8613800138000</small>" in desk
    assert "王*<br><small>138****8000</small>" not in desk
    assert "王*明<br><small>138****8000</small>" in eng
    assert "王小明" not in eng and "+8613800138000" not in eng


# --- the open-ticket guard, booked check-in --------------------------------------------------------


def _walk_in_post(device, **extra):
    return {
        "phone": "13800138000",
        "name": "王小明",
        "imei": device.imei,
        "channel": "walk_in",
        "fault_category": "screen",
        "fault_description": "裂了",
        "check_in": "1",
        **extra,
    }


def test_second_open_ticket_needs_the_confirmation_server_side(center, people, model):
    device = DeviceFactory(model=model)
    first = walk_in(center, people["desk"], device=device)
    c = login(people["desk"].user)
    r = c.post(reverse(CHECKIN), {"center": center.pk, **_walk_in_post(device)})
    assert r.status_code == 200
    html = r.content.decode()
    assert "This device already has an open ticket. Confirm to open another one." in html
    assert f'href="/admin/repairs/repairticket/{first.pk}/change/">{first.service_no}</a>' in html
    assert RepairTicket.objects.filter(device=device).count() == 1
    r = c.post(reverse(CHECKIN), {"center": center.pk, **_walk_in_post(device, confirm_duplicate="on")})
    assert r.status_code == 302
    assert RepairTicket.objects.filter(device=device, status="received").count() == 2


def test_service_refuses_the_duplicate_only_when_asked(center, people, model):
    device = DeviceFactory(model=model)
    walk_in(center, people["desk"], device=device)
    with pytest.raises(DomainError) as err:
        walk_in(center, people["desk"], device=device, refuse_open_duplicate=True)
    assert (err.value.code, err.value.status, err.value.field) == ("open_ticket_exists", 409, "confirm_duplicate")
    assert RepairTicket.objects.filter(device=device).count() == 1
    walk_in(center, people["desk"], device=device)  # the API keeps its behaviour
    assert RepairTicket.objects.filter(device=device).count() == 2


def test_booking_number_fills_the_form_and_checks_in_that_ticket_keeping_the_desk_fault(center, people, model):
    device = DeviceFactory(model=model)
    ticket = booked(center, device=device)
    c = login(people["desk"].user)
    html = lookup(c, center, service_no=ticket.service_no.lower()).content.decode()
    assert 'id="booking"' in html
    assert f'value="{device.imei}"' in html and 'value="+8613900007777"' in html and 'value="张三"' in html
    assert "电池鼓包" in html and '<option value="battery" selected>' in html
    assert "new customer" not in html and "not registered yet" not in html
    r = c.post(
        reverse(CHECKIN),
        {
            "center": center.pk,
            "service_no": ticket.service_no,
            "imei": device.imei,
            "phone": "+8613900007777",
            "name": "张三",
            "channel": "appointment",
            "fault_category": "battery",
            "fault_description": "电池鼓包, 后盖翘起",
            "accessories": "保护壳",
            "repair_mode_enabled": "on",
            "check_in": "1",
        },
    )
    assert r.status_code == 302
    assert RepairTicket.objects.count() == 1
    ticket.refresh_from_db()
    assert (
        ticket.status,
        ticket.fault_category,
        ticket.fault_description,
        ticket.accessories,
        ticket.repair_mode_enabled,
    ) == ("received", "battery", "电池鼓包, 后盖翘起", ["保护壳"], True)


def test_confirmation_shows_on_its_own_receipt_only(center, people, model, settings):
    settings.SERVICEHUB = {**settings.SERVICEHUB, "PUBLIC_BASE_URL": "https://fix.example.cn"}
    c = login(people["desk"].user)
    r = c.post(reverse(CHECKIN), {"center": center.pk, **_walk_in_post(DeviceFactory(model=model), model=model.code)})
    ticket = RepairTicket.objects.get()
    receipt = c.get(r["Location"]).content.decode()
    assert f"Checked in: {ticket.service_no}." in receipt
    assert f"https://fix.example.cn/track/{ticket.service_no}/" in receipt
    older = walk_in(center, people["desk"], device=DeviceFactory(model=model), phone="13900001111")
    other_page = c.get(reverse("admin:repairs_repairticket_change", args=[older.pk])).content.decode()
    assert "Checked in:" not in other_page and ticket.service_no not in other_page
    again = c.get(reverse("admin:repairs_repairticket_receipt", args=[ticket.pk])).content.decode()
    assert "Checked in:" not in again


def test_receipt_switches_paper(center, people, model):
    t = walk_in(center, people["desk"], device=DeviceFactory(model=model))
    c = login(people["desk"].user)
    url = reverse("admin:repairs_repairticket_receipt", args=[t.pk])
    assert "@page { size: A4; margin: 15mm; }" in c.get(url).content.decode()
    thermal = c.get(url + "?paper=80mm").content.decode()
    assert "@page { size: 80mm auto; margin: 3mm; }" in thermal and 'class="paper-80mm"' in thermal


# --- query counts ------------------------------------------------------------------------------------


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_lookup_query_count_does_not_grow_with_history(center, people, model, django_assert_max_num_queries):
    device = DeviceFactory(model=model)
    c = login(people["desk"].user)
    c.get(reverse(CHECKIN))  # warm the session
    t = walk_in(center, people["desk"], device=device, phone="13800138000")
    run(t, ("cancel", people["desk"]))
    one = _count(lambda: lookup(c, center, imei=device.imei, phone="13800138000"))
    for _i in range(6):
        t = walk_in(center, people["desk"], device=device, phone="13800138000")
        run(t, ("cancel", people["desk"]))
    many = _count(lambda: lookup(c, center, imei=device.imei, phone="13800138000"))
    assert many == one
    with django_assert_max_num_queries(30):
        lookup(c, center, imei=device.imei, phone="13800138000")


def _bench_rows(center, people, model, n):
    for _i in range(n):
        walk_in(center, people["desk"], device=DeviceFactory(model=model))  # diagnosis queue
        t = walk_in(center, people["desk"], device=DeviceFactory(model=model))
        run(
            t,
            ("start_diagnosis", people["eng2"]),
            ("send_quote", people["eng2"], FREE),
            ("start_repair", people["eng2"]),
            ("finish", people["eng2"]),
        )  # QC for eng
        t = walk_in(center, people["desk"], device=DeviceFactory(model=model))
        run(
            t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], FREE), ("start_repair", people["eng"])
        )  # my repair


def test_bench_lists_what_waits_for_each_engineer_in_fixed_queries(
    center, people, model, ops, django_assert_max_num_queries
):
    _bench_rows(center, people, model, 1)
    c = login(people["eng"].user)
    url = reverse("admin:repairs_repairticket_bench")
    one = _count(lambda: c.get(url))
    _bench_rows(center, people, model, 4)
    many = _count(lambda: c.get(url))
    assert many == one
    with django_assert_max_num_queries(13):  # session, user, memberships, 4 lists, admin chrome
        r = c.get(url)
    bench = r.context["bench"]
    assert (len(bench["diagnosis"]), len(bench["mine"]), len(bench["qc"])) == (5, 5, 5)
    assert all(t.engineer_id == people["eng2"].user.pk for t in bench["qc"])
    # eng2's repairs wait in QC, but not on eng2's bench: nobody checks their own repair
    other = login(people["eng2"].user).get(url).context["bench"]
    assert (len(other["mine"]), len(other["qc"]), len(other["diagnosis"])) == (0, 0, 5)
    assert 'name="next" value="/admin/repairs/repairticket/bench/"' in r.content.decode()


def test_today_lists_arrivals_ready_with_phone_overdue_in_fixed_queries(
    center, people, model, ops, django_assert_max_num_queries
):
    def add(n):
        for _i in range(n):
            booked(center, device=DeviceFactory(model=model), phone=f"139{RepairTicket.objects.count():08d}")
            t = walk_in(center, people["desk"], device=DeviceFactory(model=model), phone="13800138000", name="王小明")
            run(
                t,
                ("start_diagnosis", people["eng"]),
                ("send_quote", people["eng"], FREE),
                ("start_repair", people["eng"]),
                ("finish", people["eng"]),
                ("qc_pass", people["eng2"]),
            )
            late = walk_in(center, people["desk"], device=DeviceFactory(model=model))
            RepairTicket.objects.filter(pk=late.pk).update(stage_due_at=timezone.now() - dt.timedelta(hours=2))

    add(1)
    c = login(people["desk"].user)
    url = reverse("admin:repairs_repairticket_today")
    one = _count(lambda: c.get(url))
    add(3)
    many = _count(lambda: c.get(url))
    assert many == one
    with django_assert_max_num_queries(15):  # + the express repairs list (issue #21)
        r = c.get(url)
    day = r.context["day"]
    assert (len(day["arrivals"]), len(day["ready"]), len(day["overdue"])) == (4, 4, 4)
    assert 'href="tel:+8613800138000"' in r.content.decode()


def test_pages_are_for_their_roles_and_on_the_admin_index(center, people):
    eng, desk = login(people["eng"].user), login(people["desk"].user)
    assert eng.get(reverse("admin:repairs_repairticket_today")).status_code == 403
    assert desk.get(reverse("admin:repairs_repairticket_bench")).status_code == 403
    eng_index, desk_index = (
        eng.get(reverse("admin:index")).content.decode(),
        desk.get(reverse("admin:index")).content.decode(),
    )
    assert 'href="/admin/repairs/bench/"' in eng_index and 'href="/admin/repairs/desktoday/"' not in eng_index
    assert 'href="/admin/repairs/desktoday/"' in desk_index and 'href="/admin/repairs/countercheckin/"' in desk_index
    assert 'href="/admin/repairs/bench/"' not in desk_index
    assert desk.get("/admin/repairs/desktoday/")["Location"] == reverse("admin:repairs_repairticket_today")


def test_qc_fail_needs_a_note(center, people, model, ops):
    t = walk_in(center, people["desk"], device=DeviceFactory(model=model))
    t = run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], FREE),
        ("start_repair", people["eng"]),
        ("finish", people["eng"]),
    )
    with pytest.raises(DomainError) as err:
        services.ticket_transition(ticket_id=t.pk, action="qc_fail", actor=people["eng2"], note="  ")
    assert (err.value.code, err.value.field) == ("validation_error", "note")
    t.refresh_from_db()
    assert t.status == "quality_check"


def test_check_in_link_from_today_looks_the_booking_up_at_once(center, people, model):
    device = DeviceFactory(model=model)
    ticket = booked(center, device=device)
    html = login(people["desk"].user).get(reverse(CHECKIN), {"service_no": ticket.service_no}).content.decode()
    assert 'id="booking"' in html and f'value="{device.imei}"' in html and 'value="张三"' in html
    assert RepairTicket.objects.get().status == "booked"


def test_list_and_receipt_query_counts_do_not_grow_with_rows(center, people, model, django_assert_max_num_queries):
    c = login(people["desk"].user)
    url = reverse("admin:repairs_repairticket_changelist")
    t = walk_in(center, people["desk"], device=DeviceFactory(model=model))
    one = _count(lambda: c.get(url, {"q": "138 1234 5678"}))
    for i in range(5):
        walk_in(center, people["desk"], device=DeviceFactory(model=model), phone=f"1391234000{i}")
    many = _count(lambda: c.get(url, {"q": "138 1234 5678"}))
    assert many == one
    with django_assert_max_num_queries(12):
        assert c.get(url).status_code == 200
    with django_assert_max_num_queries(8):
        assert c.get(reverse("admin:repairs_repairticket_receipt", args=[t.pk])).status_code == 200
    # session, user, memberships, centers, models, permissions x2, and the nav sidebar's other apps
    # asking for their own actors (4): fixed
    with django_assert_max_num_queries(11):
        assert c.get(reverse(CHECKIN)).status_code == 200


def test_a_click_on_the_bench_comes_back_to_the_bench_and_never_leaves_the_site(center, people, model):
    # given a ticket waiting for diagnosis and the engineer on the bench
    t = walk_in(center, people["desk"], device=DeviceFactory(model=model))
    c = login(people["eng"].user)
    move = reverse("admin:repairs_repairticket_transition", args=[t.pk])
    bench = reverse("admin:repairs_repairticket_bench")
    # when the engineer starts the diagnosis from the bench, then it moved and the bench is shown again
    r = c.post(move, {"action": "start_diagnosis", "note": "", "next": bench})
    assert (r.status_code, r["Location"]) == (302, bench)
    t.refresh_from_db()
    assert t.status == "diagnosing"
    # an outside address in ``next`` is ignored: back to the ticket
    r = c.post(move, {"action": "send_quote", "note": "", "next": "https://evil.example/admin/"})
    assert r["Location"] == reverse("admin:repairs_repairticket_change", args=[t.pk])
