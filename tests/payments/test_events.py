"""payment.succeeded / payment.refunded reach the partners operating the center as webhooks."""

import json

import pytest

from partners.models import WebhookDelivery
from payments import services
from tests.factories.partners import PartnerFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def test_payment_and_refund_webhooks_for_the_centers_operator_only(ready, people, django_capture_on_commit_callbacks):
    mine, other = PartnerFactory(), PartnerFactory()
    mine.centers.add(ready.center)
    endpoint = WebhookEndpointFactory(partner=mine, events=["payment.succeeded", "payment.refunded"])
    WebhookEndpointFactory(partner=other, events=["payment.succeeded"])
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_create(payment_id=payment.pk, amount="9.00", reason="goodwill", actor=people["desk"])
    rows = list(WebhookDelivery.objects.order_by("pk"))
    assert [(r.endpoint_id, r.event_type) for r in rows] == [
        (endpoint.pk, "payment.succeeded"),
        (endpoint.pk, "payment.refunded"),
    ]
    paid = rows[0].payload if isinstance(rows[0].payload, dict) else json.loads(rows[0].payload)
    assert paid == {
        "payment_id": payment.pk,
        "service_no": ready.service_no,
        "method": "cash",
        "amount": "659.00",
        "receipt_no": payment.receipt_no,
    }


def test_the_customer_gets_the_receipt_link_by_sms_once(ready, people, sms_outbox, django_capture_on_commit_callbacks):
    from notifications.models import Notification
    from payments.receipts import receipt_url
    from servicehub.events import outbox_dispatch
    from servicehub.models import OutboxEvent

    with django_capture_on_commit_callbacks(execute=True):
        payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    texts = [m["text"] for m in sms_outbox if payment.receipt_no in m["text"]]
    assert len(texts) == 1 and receipt_url(payment.pk) in texts[0] and "659.00" in texts[0]
    # a replayed event writes nothing twice
    event = OutboxEvent.objects.get(type="payment.succeeded")
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
    outbox_dispatch(event_id=event.pk)
    assert Notification.objects.filter(kind="payment_received", channel="sms").count() == 1
