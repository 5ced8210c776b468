"""The domain events of payments: announced inside the payment's transaction, acted on after commit.

Payloads hold ids, codes and amounts (the change itself), never the customer: the SMS subscriber
(``notifications.payments``) and the webhook subscriber (``partners.subscribers``) read what they need.
"""

from __future__ import annotations

from servicehub.events import emit

from .models import Payment, Refund

EVENT_TYPES = {
    "payment.succeeded": "Money was received for a ticket, loan, plan order or amenity loan (with its receipt number).",
    "payment.refunded": "Money was given back from a payment, to its method.",
}


def _subject(payment: Payment) -> dict:
    return {
        "ticket_id": payment.ticket_id,
        "loan_id": payment.loan_id,
        "plan_purchase_id": payment.plan_purchase_id,
        "amenity_loan_id": payment.amenity_loan_id,
        "center_id": payment.center_id,
    }


def payment_succeeded(*, payment: Payment, service_no: str = "") -> None:
    emit(
        "payment.succeeded",
        {
            "payment_id": payment.pk,
            **_subject(payment),
            "service_no": service_no,
            "method": payment.method,
            "provider": payment.provider,
            "amount": str(payment.amount),
            "receipt_no": payment.receipt_no,
        },
        center_id=payment.center_id,
    )


def payment_refunded(*, refund: Refund, service_no: str = "") -> None:
    payment = refund.payment
    emit(
        "payment.refunded",
        {
            "refund_id": refund.pk,
            "payment_id": payment.pk,
            **_subject(payment),
            "service_no": service_no,
            "method": payment.method,
            "amount": str(refund.amount),
            "refunded_total": str(payment.refunded),
            "receipt_no": payment.receipt_no,
        },
        center_id=payment.center_id,
    )
