"""The outbox in the admin: filters, masked recipients, per-center visibility, resend action."""

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications import services
from notifications.models import Notification
from servicehub.models import JobRun
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff
from tests.factories.users import StaffUserFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
CTX = {
    "service_no": "SH1",
    "customer_name": "王",
    "center_name": "C",
    "center_address": "R",
    "center_phone": "",
    "device_model": "P",
    "link": "http://x/",
}


def login(client, user):
    user.save()  # the factory sets the password without saving; the session hash needs the saved one
    client.force_login(user, backend=BACKEND)


@pytest.fixture
def rows(ticket, customer):
    other_center = ServiceCenterFactory()
    mine = services.notification_enqueue(
        kind="ticket_received", customer=customer, context=CTX, ticket=ticket, dedupe_key="mine"
    )[0]
    Notification.objects.filter(pk=mine.pk).update(status="failed", attempts=6, last_error="provider said no")
    from repairs.services import ticket_book

    other_ticket = ticket_book(center=other_center, customer=customer, device=ticket.device, fault_category="screen")
    theirs = services.notification_enqueue(
        kind="ticket_received", customer=customer, context=CTX, ticket=other_ticket, dedupe_key="theirs"
    )[0]
    return mine, theirs


def test_staff_see_their_centers_notifications_only_with_masked_phone(
    client, center, rows, django_assert_max_num_queries
):
    mine, theirs = rows
    login(client, staff(center, "manager"))
    with django_assert_max_num_queries(14):
        response = client.get(reverse("admin:notifications_notification_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"/admin/notifications/notification/{mine.pk}/change/" in body
    assert f"/admin/notifications/notification/{theirs.pk}/change/" not in body
    assert "138****5678" in body
    assert "13812345678" not in body
    assert "provider said no" in body
    detail = client.get(reverse("admin:notifications_notification_change", args=[theirs.pk]))
    assert detail.status_code == 302  # not visible: redirected back to the list


def test_filters_by_status(client, center, rows):
    mine, theirs = rows
    login(client, StaffUserFactory(is_superuser=True))
    response = client.get(reverse("admin:notifications_notification_changelist") + "?status__exact=failed")
    body = response.content.decode()
    assert f"/{mine.pk}/change/" in body and f"/{theirs.pk}/change/" not in body


def test_resend_action_requeues_a_failed_notification(
    client, center, rows, sms_outbox, django_capture_on_commit_callbacks
):
    mine, theirs = rows
    login(client, staff(center, "manager"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:notifications_notification_changelist"),
            {"action": "resend", "_selected_action": [mine.pk, theirs.pk]},
        )
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == "sent"
    assert theirs.status == "pending"  # another center's row was not even selectable
    assert len(sms_outbox) == 1


def test_job_runs_are_for_hq_only(client, center, db):
    JobRun.objects.create(
        job="sla_watch", period="2026-11-25T10:00", started_at=timezone.now(), lease_until=timezone.now()
    )
    login(client, staff(center, "manager"))
    assert client.get(reverse("admin:servicehub_jobrun_changelist")).status_code == 403
    login(client, StaffUserFactory(is_superuser=True))
    response = client.get(reverse("admin:servicehub_jobrun_changelist"))
    assert response.status_code == 200
    assert "sla_watch" in response.content.decode()


def test_sla_breaches_are_shown_per_center_under_repairs(client, center, ticket, customer):
    from repairs.models import SlaBreach
    from repairs.services import ticket_book

    other = ticket_book(center=ServiceCenterFactory(), customer=customer, device=ticket.device, fault_category="screen")
    SlaBreach.objects.create(ticket=ticket, status="repairing", stage_due_at=timezone.now())
    SlaBreach.objects.create(ticket=other, status="repairing", stage_due_at=timezone.now())
    login(client, staff(center, "manager"))
    response = client.get(reverse("admin:repairs_slabreach_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert ticket.service_no in body
    assert other.service_no not in body
