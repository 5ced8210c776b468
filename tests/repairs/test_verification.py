"""Customers are who they say they are (issue #15, items 1-4; threat model in docs/security.md).

SMS one-time codes, the hijack chain (anonymous booking with a victim's phone), the lock per
service number after wrong digits, superseded quote links, approving from a digits lookup.
"""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from notifications.models import Notification
from repairs import verification
from repairs.models import Customer, PhoneVerification, Quote
from repairs.tracking import quote_decision_token
from servicehub.errors import DomainError
from tests.factories.booking import local, open_center, tomorrow
from tests.factories.repairs import run, walk_in
from tests.factories.warranty import DeviceModelFactory, make_imei

pytestmark = pytest.mark.django_db

VICTIM = "+8613812345678"
SCREEN = {"lines": [{"repair": "screen"}]}


def _code_from(sms_list, phone=VICTIM) -> str:
    texts = [m["text"] for m in sms_list if m["to"] == phone]
    assert texts, sms_list
    return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


@pytest.fixture
def quoted_ticket(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device, phone="13812345678", name="王小明")
    return run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], SCREEN))


# --- 1. one-time codes ---------------------------------------------------------------------


def test_code_endpoint_sends_one_sms_and_stores_only_a_hash(
    api_client,
    sms_outbox,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    # Retire older codes, insert the code, the customer's language, the event's outbox row (in a
    # savepoint); then its dispatch at commit (savepoint, claim, read the event, the verification, the
    # dedupe lookup, the SMS row in a savepoint, the code scrubbed from the event) -- 16 whatever the
    # history of the phone.
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(16):
        r = api_client.post("/api/v1/verification-codes/", {"phone": "138 1234 5678"}, format="json")
    assert r.status_code == 202
    assert r.json() == {"expires_in": 300}
    assert len(sms_outbox) == 1 and sms_outbox[0]["to"] == VICTIM
    code = _code_from(sms_outbox)
    row = PhoneVerification.objects.get()
    assert row.phone == VICTIM
    assert code not in (row.code_hash, row.salt) and len(row.code_hash) == 64
    assert row.expires_at - row.created_at == dt.timedelta(seconds=300)
    assert row.attempts == 0 and row.used_at is None
    # Sent, the outbox row no longer carries the code either.
    note = Notification.objects.get(kind="verification_code")
    assert note.status == "sent" and code not in note.body and note.context == {}


def test_code_endpoint_refuses_a_bad_phone(api_client):
    r = api_client.post("/api/v1/verification-codes/", {"phone": "12"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
    assert not PhoneVerification.objects.exists()


def test_right_code_verifies_once_and_reuse_is_refused(sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        verification.verification_code_send(phone=VICTIM, address="1.1.1.1")
    code = _code_from(sms_outbox)
    assert verification.verification_code_check(phone="13812345678", code=code) == VICTIM
    with pytest.raises(DomainError) as exc:
        verification.verification_code_check(phone=VICTIM, code=code)
    assert exc.value.code == "verification_failed"


def test_code_expires_after_five_minutes(sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        verification.verification_code_send(phone=VICTIM, address="1.1.1.1")
    code = _code_from(sms_outbox)
    later = timezone.now() + dt.timedelta(seconds=301)
    with pytest.raises(DomainError) as exc:
        verification.verification_code_check(phone=VICTIM, code=code, now=later)
    assert exc.value.code == "verification_failed"
    assert verification.verification_code_check(phone=VICTIM, code=code) == VICTIM  # within 5 minutes: fine


def test_five_wrong_tries_spend_the_code(sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        verification.verification_code_send(phone=VICTIM, address="1.1.1.1")
    code = _code_from(sms_outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _i in range(5):
        with pytest.raises(DomainError):
            verification.verification_code_check(phone=VICTIM, code=wrong)
    assert PhoneVerification.objects.get().attempts == 5  # each try committed despite the error
    with pytest.raises(DomainError) as exc:
        verification.verification_code_check(phone=VICTIM, code=code)
    assert exc.value.code == "verification_failed"


def test_a_new_code_replaces_the_previous_one(sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        verification.verification_code_send(phone=VICTIM, address="1.1.1.1")
    first = _code_from(sms_outbox)
    with django_capture_on_commit_callbacks(execute=True):
        verification.verification_code_send(phone=VICTIM, address="1.1.1.1")
    second = _code_from(sms_outbox)
    if first != second:
        with pytest.raises(DomainError):
            verification.verification_code_check(phone=VICTIM, code=first)
    assert verification.verification_code_check(phone=VICTIM, code=second) == VICTIM


def test_codes_are_rate_limited_per_phone(api_client, settings):
    settings.VERIFICATION = {**settings.VERIFICATION, "CODES_PER_PHONE_PER_HOUR": 3}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    codes = [
        api_client.post(
            "/api/v1/verification-codes/", {"phone": VICTIM}, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        ).status_code
        for i in range(4)
    ]
    assert codes == [202, 202, 202, 429]
    r = api_client.post(
        "/api/v1/verification-codes/", {"phone": VICTIM}, format="json", HTTP_X_FORWARDED_FOR="10.0.0.99"
    )
    assert r.json()["code"] == "throttled"
    assert PhoneVerification.objects.count() == 3
    other = api_client.post("/api/v1/verification-codes/", {"phone": "13900001111"}, format="json")
    assert other.status_code == 202


def test_codes_are_rate_limited_per_address(api_client, settings):
    settings.VERIFICATION = {**settings.VERIFICATION, "CODES_PER_ADDRESS_PER_HOUR": 2}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    codes = [
        api_client.post(
            "/api/v1/verification-codes/",
            {"phone": f"1390000{i:04d}"},
            format="json",
            HTTP_X_FORWARDED_FOR="10.0.0.1",
        ).status_code
        for i in range(3)
    ]
    assert codes == [202, 202, 429]
    elsewhere = api_client.post(
        "/api/v1/verification-codes/", {"phone": "13900009999"}, format="json", HTTP_X_FORWARDED_FOR="10.0.0.2"
    )
    assert elsewhere.status_code == 202


# --- 1. the hijack chain -------------------------------------------------------------------


def test_anonymous_booking_with_a_victims_phone_does_not_take_their_messages(
    api_client,
    center,
    people,
    ops,
    old_device,
    mailoutbox,
    sms_outbox,
    django_capture_on_commit_callbacks,
):
    """Regression: POST /api/v1/appointments/ with a victim's phone + the attacker's e-mail filled
    the victim's empty e-mail; the victim's quote link then went to the attacker."""
    victim = Customer.objects.create(name="王小明", phone=VICTIM, email="")
    booking_center = open_center()
    body = {
        "center": booking_center.code,
        "start": local(tomorrow(), 10).isoformat(),
        "customer": {"name": "Mallory", "phone": "13812345678", "email": "attacker@evil.example"},
        "device": {"imei": make_imei(), "model": DeviceModelFactory(code="PHN-1").code},
        "issue": "screen",
    }
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.post("/api/v1/appointments/", body, format="json")
    assert r.status_code == 201
    # The booking's own confirmation goes to the address given with it -- the plain tracking
    # link of that booking only, no signed link and no phone digits -- and nothing else ever does.
    assert [m.to for m in mailoutbox] == [["attacker@evil.example"]]
    assert r.json()["service_no"] in mailoutbox[0].body
    assert "?t=" not in mailoutbox[0].body and "phone_last4" not in mailoutbox[0].body
    mailoutbox.clear()
    victim.refresh_from_db()
    assert victim.email == "" and victim.name == "王小明" and victim.language == "zh-hans"
    booked = victim.tickets.get(service_no=r.json()["service_no"])
    assert booked.contact_email == "attacker@evil.example"

    # Cancelling the booking changes nothing either.
    from booking.services import appointment_cancel

    appointment_cancel(appointment_id=booked.appointment.pk)
    victim.refresh_from_db()
    assert victim.email == ""

    # The victim's own repair at the desk: the quote (with its signed link) reaches only the victim.
    with django_capture_on_commit_callbacks(execute=True):
        t = walk_in(center, people["desk"], device=old_device, phone="13812345678")
        run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], SCREEN))
    assert [m.to for m in mailoutbox] == []
    assert set(Notification.objects.filter(recipient="attacker@evil.example").values_list("kind", flat=True)) == {
        "appointment_booked"
    }
    quote_sms = [m for m in sms_outbox if "/quote/?t=" in m["text"]]
    assert [m["to"] for m in quote_sms] == [VICTIM]


def test_the_bookings_own_messages_go_to_its_contact_email_without_the_approval_link(
    api_client,
    people,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    """A booking's own news may go to the e-mail given with it -- never a signed approval link."""
    from repairs.services import ticket_transition
    from servicehub.actors import actor_for_user
    from tests.factories.repairs import catalog, staff

    booking_center = open_center()
    model = DeviceModelFactory(code="PHN-1")
    catalog(model)
    body = {
        "center": booking_center.code,
        "start": local(tomorrow(), 10).isoformat(),
        "customer": {"name": "李雷", "phone": "13900002222", "email": "lilei@example.com"},
        "device": {"imei": make_imei(), "model": "PHN-1"},
        "issue": "screen",
    }
    r = api_client.post("/api/v1/appointments/", body, format="json")
    assert r.status_code == 201
    desk = actor_for_user(staff(booking_center, "front_desk"))
    eng = actor_for_user(staff(booking_center, "engineer", certified=True))
    ticket = Customer.objects.get(phone="+8613900002222").tickets.get()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket_id=ticket.pk, action="check_in", actor=desk)
        ticket_transition(ticket_id=ticket.pk, action="start_diagnosis", actor=eng)
        ticket_transition(ticket_id=ticket.pk, action="send_quote", actor=eng, lines=[{"repair": "screen"}])
    assert [m.to for m in mailoutbox] == [["lilei@example.com"], ["lilei@example.com"]]
    quote_mail = mailoutbox[1].body
    assert ticket.service_no in quote_mail
    assert "?t=" not in quote_mail and "phone_last4" not in quote_mail
    assert Customer.objects.get(phone="+8613900002222").email == ""


# --- 4. guessing stops: the lock per service number ---------------------------------------


def _guess_api(api_client, number, last4, i):
    return api_client.get(f"/api/v1/track/{number}/", {"phone_last4": last4}, HTTP_X_FORWARDED_FOR=f"10.1.0.{i}")


def test_ten_wrong_digits_from_many_addresses_lock_the_number_for_the_api(
    api_client,
    settings,
    quoted_ticket,
    sms_outbox,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    number = quoted_ticket.service_no
    with django_capture_on_commit_callbacks(execute=True):
        codes = [_guess_api(api_client, number, f"{i:04d}", i).status_code for i in range(10)]
    assert codes == [404] * 10
    with django_assert_max_num_queries(3):
        locked = _guess_api(api_client, number, "5678", 200)  # the right digits, a fresh address
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/problem+json"
    assert locked.json()["code"] == "lookup_locked"
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            assert _guess_api(api_client, number, "0000", 100 + i).status_code == 429
    # One SMS per lock, to the customer, with a link that still opens the repair.
    lock_sms = [m for m in sms_outbox if f"/track/{number}/?k=" in m["text"]]  # in the customer's language
    assert len(lock_sms) == 1 and lock_sms[0]["to"] == VICTIM
    assert Notification.objects.filter(kind="lookup_locked").count() == 1
    link = re.search(r"(/track/\S+)", lock_sms[0]["text"]).group(1)
    page = Client().get(link)
    assert page.status_code == 200 and page.context["access"] == "link"
    assert page.context["token"] is None  # the quote still needs an SMS code


def test_unknown_numbers_lock_the_same_way(api_client, settings, quoted_ticket):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    codes = [_guess_api(api_client, "ZZZZZZZZZZ", f"{i:04d}", i).status_code for i in range(11)]
    assert codes == [404] * 10 + [429]
    assert not Notification.objects.filter(kind="lookup_locked").exists()
    # Another number is not affected.
    assert _guess_api(api_client, quoted_ticket.service_no, "5678", 50).status_code == 200


def test_the_lock_covers_the_tracking_page_with_readable_words(client, settings, quoted_ticket):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    number = quoted_ticket.service_no
    for i in range(10):
        r = client.get(f"/track/{number}/", {"phone_last4": f"{i:04d}"}, HTTP_X_FORWARDED_FOR=f"10.2.0.{i}")
        assert r.status_code == 404
    r = client.get(f"/track/{number}/", {"phone_last4": "5678"}, HTTP_X_FORWARDED_FOR="10.2.0.77")
    assert r.status_code == 429
    html = r.content.decode()
    assert "paused for an hour" in html and "My service" in html
    assert "王*明" not in html
    # The other digit-protected pages (survey, appointment change) are locked alike.
    survey = client.get(f"/survey/{number}/", {"phone_last4": "5678"}, HTTP_X_FORWARDED_FOR="10.2.0.78")
    assert survey.status_code == 429 and "paused for an hour" in survey.content.decode()


def test_the_lock_ends_after_an_hour(api_client, settings, quoted_ticket):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.VERIFICATION = {**settings.VERIFICATION, "LOOKUP_FAILURES_BEFORE_LOCK": 2}
    number = quoted_ticket.service_no
    assert [_guess_api(api_client, number, "0000", i).status_code for i in range(3)] == [404, 404, 429]
    from django.core.cache import cache

    # What the cache does when the hour is over: both keys expire (their TTL is LOOKUP_LOCK_SECONDS).
    digest = verification._digest("track", number)
    cache.delete_many([f"track:lock:{digest}", f"track:fail:{digest}"])
    assert _guess_api(api_client, number, "5678", 9).status_code == 200


# --- 3. quote approval ---------------------------------------------------------------------


def test_superseded_quote_link_opens_nothing_current(client, quoted_ticket, people):
    old_token = quote_decision_token(ticket=quoted_ticket, quote=Quote.objects.get(ticket=quoted_ticket))
    run(quoted_ticket, ("send_quote", people["eng"], {"lines": [{"repair": "screen"}, {"repair": "camera"}]}))
    r = client.get(f"/track/{quoted_ticket.service_no}/quote/", {"t": old_token})
    assert r.status_code == 410
    html = r.content.decode()
    assert "replaced by a newer version" in html
    assert 'name="t"' not in html and "王*明" not in html
    assert r.templates[0].name == "repairs/track_form.html"


def test_approving_from_a_digits_lookup_needs_the_sms_code(
    quoted_ticket,
    sms_outbox,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    c = Client()
    number = quoted_ticket.service_no
    quote = Quote.objects.get(ticket=quoted_ticket)
    # Without a code: refused, nothing changes.
    r = c.post(f"/track/{number}/quote/", {"phone_last4": "5678", "quote": quote.pk, "decision": "approve"})
    assert r.status_code == 400
    assert "The code is wrong" in r.content.decode()
    quoted_ticket.refresh_from_db()
    assert quoted_ticket.status == "awaiting_approval"
    # Send the code, then approve with it.
    with django_capture_on_commit_callbacks(execute=True):
        sent = c.post(f"/track/{number}/quote/code/", {"phone_last4": "5678"})
    assert sent.status_code == 200 and sent.context["code_sent"] is True
    assert 'name="code"' in sent.content.decode()
    code = _code_from(sms_outbox)
    with django_assert_max_num_queries(40):
        r = c.post(
            f"/track/{number}/quote/", {"phone_last4": "5678", "quote": quote.pk, "code": code, "decision": "approve"}
        )
    assert r.status_code == 200
    assert "the repair will start now" in r.content.decode()
    quoted_ticket.refresh_from_db()
    assert quoted_ticket.status == "repairing"
    quote.refresh_from_db()
    assert quote.status == "approved" and quote.decided_by_label == "customer"


def test_code_for_the_quote_needs_the_right_digits(quoted_ticket, sms_outbox):
    r = Client().post(f"/track/{quoted_ticket.service_no}/quote/code/", {"phone_last4": "0000"})
    assert r.status_code == 404
    assert not PhoneVerification.objects.exists()


# --- 2. "my service" ------------------------------------------------------------------------


def _sign_in(c, sms, django_capture_on_commit_callbacks, phone="13812345678"):
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post("/me/sign-in/", {"phone": phone})
    assert r.status_code == 200 and r.context["step"] == "code"
    code = _code_from(sms, "+86" + phone)
    return c.post("/me/sign-in/", {"phone": phone, "code": code})


def test_my_service_sign_in_overview_and_contact_change(
    quoted_ticket,
    sms_outbox,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    c = Client()
    assert c.get("/me/").context["step"] == "phone"
    r = _sign_in(c, sms_outbox, django_capture_on_commit_callbacks)
    assert r.status_code == 302 and r["Location"] == "/me/"
    assert "sh_me" in r.cookies and r.cookies["sh_me"]["httponly"]
    with django_assert_max_num_queries(10):
        page = c.get("/me/")
    assert page.status_code == 200
    assert [t.service_no for t in page.context["open_tickets"]] == [quoted_ticket.service_no]
    assert len(page.context["devices"]) == 1
    # A repair opens without the digits; the quote is decided as the signed-in customer.
    track = c.get(f"/track/{quoted_ticket.service_no}/")
    assert track.status_code == 200 and track.context["access"] == "me"
    # Contact details change here only.
    # The save (customer, savepoint, lock, update) and the overview again: tickets, plans, statutory
    # policy, appointments, loans, surveys, the tickets' balances in one ledger query.
    with django_assert_max_num_queries(13):
        saved = c.post("/me/", {"email": "wang@example.com", "language": "en", "contact_consent": "on"})
    assert saved.status_code == 200
    customer = Customer.objects.get(phone=VICTIM)
    assert (customer.email, customer.language, customer.contact_consent) == ("wang@example.com", "en", True)
    # Logging out ends the session: the same cookie no longer works.
    cookie = c.cookies["sh_me"].value
    c.post("/me/logout/")
    other = Client()
    other.cookies["sh_me"] = cookie
    assert other.get("/me/").context["step"] == "phone"
    assert other.get(f"/track/{quoted_ticket.service_no}/").templates[0].name == "repairs/track_form.html"


def test_my_service_is_not_another_customers(
    quoted_ticket,
    center,
    people,
    sms_outbox,
    django_capture_on_commit_callbacks,
):
    other = walk_in(center, people["desk"], phone="13900003333", name="韩梅梅")
    c = Client()
    _sign_in(c, sms_outbox, django_capture_on_commit_callbacks)
    r = c.get(f"/track/{other.service_no}/")
    assert r.templates[0].name == "repairs/track_form.html"  # asks for that ticket's digits
    assert "韩*梅" not in r.content.decode()


def test_wrong_code_does_not_sign_in(quoted_ticket, sms_outbox, django_capture_on_commit_callbacks):
    c = Client()
    with django_capture_on_commit_callbacks(execute=True):
        c.post("/me/sign-in/", {"phone": "13812345678"})
    code = _code_from(sms_outbox)
    r = c.post("/me/sign-in/", {"phone": "13812345678", "code": f"{(int(code) + 1) % 10**6:06d}"})
    assert r.status_code == 400 and "sh_me" not in r.cookies


def test_contact_change_needs_a_verified_phone(quoted_ticket):
    from repairs.services import customer_contact_update

    customer = Customer.objects.get(phone=VICTIM)
    with pytest.raises(DomainError) as exc:
        customer_contact_update(
            customer_id=customer.pk,
            verified_customer_id=None,
            email="x@evil.example",
            language="en",
            contact_consent=True,
        )
    assert exc.value.code == "verification_required" and exc.value.status == 403
    customer.refresh_from_db()
    assert customer.email == ""
    # Posting the form without a session shows the sign-in, changes nothing.
    r = Client().post("/me/", {"email": "x@evil.example", "language": "en"})
    assert r.context["step"] == "phone"
    customer.refresh_from_db()
    assert customer.email == ""


def test_schema_documents_the_new_endpoint_and_lookup_locked(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    post = schema["paths"]["/api/v1/verification-codes/"]["post"]
    assert {"202", "400", "429"} <= set(post["responses"])
    track = schema["paths"]["/api/v1/track/{service_no}/"]["get"]
    assert "lookup_locked" in track["responses"]["429"]["description"]


def test_my_service_sign_in_pages_query_counts(
    quoted_ticket,
    sms_outbox,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    c = Client()
    with django_assert_num_queries(0):  # not signed in: the phone form, no database
        assert c.get("/me/").status_code == 200
    # The code request and its event's dispatch (see test_code_endpoint_sends_one_sms_and_stores_only_a_hash).
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(16):
        assert c.post("/me/sign-in/", {"phone": "13812345678"}).status_code == 200
    code = _code_from(sms_outbox)
    # savepoint, (PostgreSQL: SET LOCAL lock_timeout,) lock + read the code row, count the try / mark used,
    # release, find the customer
    with django_assert_max_num_queries(6):
        assert c.post("/me/sign-in/", {"phone": "13812345678", "code": code}).status_code == 302


def test_my_service_cancels_an_appointment_without_digits(sms_outbox, django_capture_on_commit_callbacks):
    from booking import services as booking_services
    from tests.factories.booking import booking_input

    appointment = booking_services.appointment_book(
        center=open_center(), start=local(tomorrow(), 10), **booking_input(phone="13812345678")
    )
    c = Client()
    _sign_in(c, sms_outbox, django_capture_on_commit_callbacks)
    home = c.get("/me/")
    assert [a.pk for a in home.context["appointments"]] == [appointment.pk]
    number = appointment.ticket.service_no
    assert f"/appointments/{number}/" in home.content.decode()
    r = c.post(f"/appointments/{number}/", {"action": "cancel"})
    assert r.status_code == 200 and r.context["confirm"] == "cancel"  # "are you sure?" first
    r = c.post(f"/appointments/{number}/", {"action": "cancel_confirmed"})
    assert r.status_code == 200 and r.context["done"] == "cancelled"
    assert f"/track/{number}/" in r.context["track_url"]
    appointment.refresh_from_db()
    assert appointment.status == "cancelled" and appointment.ticket.status == "cancelled"
    # Without the session the same request needs the digits.
    assert Client().post(f"/appointments/{number}/", {"action": "cancel"}).status_code == 404
