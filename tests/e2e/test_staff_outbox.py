"""HQ in a real browser (1366x900): the domain-event outbox page, and a failed event dispatched again.

An event whose subscriber kept failing (here: the SMS that tells a customer their lookups are locked)
is listed as failed; HQ selects it, runs "Dispatch the selected failed events again", and the customer's
message is written -- checked in the database.
"""

import re

import pytest
from django.db import transaction

from notifications.models import Notification
from servicehub import events
from servicehub.actors import actor_for_user
from servicehub.models import OutboxEvent
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff, walk_in
from tests.factories.users import StaffUserFactory
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory

from .conftest import set_english

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests/factories/users.py


def test_hq_dispatches_a_failed_event_again_and_the_customer_gets_the_message(browser, live_server):
    StatutoryPolicyFactory(category="phone")
    center = ServiceCenterFactory()
    ticket = walk_in(
        center, actor_for_user(staff(center, "front_desk")), device=DeviceFactory(model=DeviceModelFactory())
    )
    with transaction.atomic():
        failed = events.emit(
            "ticket.lookup_locked",
            {"ticket_id": ticket.pk, "service_no": ticket.service_no, "lock_id": "e2e"},
            center_id=center.pk,
        )
    Notification.objects.filter(kind="lookup_locked").delete()  # as if every dispatch had raised
    OutboxEvent.objects.filter(pk=failed.pk).update(
        dispatched_at=None, failed_at="2026-12-01T08:00:00Z", attempts=10, last_error="ConnectionError: SMS down"
    )
    hq = StaffUserFactory(is_superuser=True)
    hq.save()

    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    set_english(page, live_server)
    page.goto("/admin/login/")
    page.locator("#id_username").fill(hq.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))

    page.get_by_role("link", name="Outbox events").first.click()
    row = page.locator("#result_list tbody tr", has_text="ticket.lookup_locked")
    assert "SMS down" in row.inner_text()
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("dispatch_again")
    page.locator("button[name=index], .actions button[type=submit]").first.click()
    assert "1 failed event queued again." in page.locator(".messagelist").inner_text()
    context.close()

    failed.refresh_from_db()
    assert failed.dispatched_at is not None and failed.failed_at is None and failed.last_error == ""
    (message,) = Notification.objects.filter(kind="lookup_locked", ticket=ticket)
    assert message.dedupe_key == f"event:{failed.pk}"
