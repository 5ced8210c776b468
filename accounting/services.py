"""Writes of accounting: fapiao requests and their issuing, the daily close and its re-opening.

Each function is one transaction: it checks the actor's scope, locks what it changes
(``servicehub.locking``), re-checks the state, writes its row and its history, and emits its event.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from centers.models import ServiceCenter
from payments.choices import Method
from repairs.models import RepairTicket
from repairs.workflow import CustomerActor
from servicehub.actors import Actor
from servicehub.errors import Conflict, DomainError, NotFound
from servicehub.events import emit
from servicehub.locking import lock_one
from servicehub.money import MONEY_MAX, check_ascii_decimal

from . import selectors
from .choices import BuyerType, CloseAction, CloseStatus, FapiaoStatus, RequestedVia
from .invoicing import InvoiceDraft, InvoicingError, invoicing_provider
from .models import DailyClose, DailyCloseHistory, DailyCloseLine, FapiaoRequest

# Staff who take money at the counter may ask for a fapiao and close the day.
COUNTER_ROLES = ("front_desk", "manager")
DOCUMENT_SALT = "accounting.fapiao-document"
CENT = Decimal("0.01")


# --- fapiao ------------------------------------------------------------------------------------------------


def tax_number_clean(value: str) -> str:
    """The 统一社会信用代码 compacted and upper-cased; ``invalid_tax_number`` when python-stdnum refuses it."""
    try:
        return str(uscc.validate(uscc.compact(value or "")))
    except StdnumError as exc:
        raise DomainError(
            "invalid_tax_number",
            _("This is not a valid unified social credit code (18 characters, check the last one)."),
            status=422,
            field="tax_number",
        ) from exc


def _may_request(actor: Actor, ticket: RepairTicket) -> bool:
    if isinstance(actor, CustomerActor):
        return actor.ticket_id == ticket.pk
    if not actor.can_see_center(ticket.center_id):
        return False
    if actor.user is None:  # a partner key scoped to the ticket's centers, or the system
        return True
    return actor.has_role("hq") or any(actor.has_role(r, ticket.center_id) for r in COUNTER_ROLES)


def fapiao_document_url(*, fapiao_id: int) -> str:
    """The signed public link to the sandbox's document (what the customer's message points at)."""
    token = signing.dumps(fapiao_id, salt=DOCUMENT_SALT, compress=True)
    path = reverse("accounting:fapiao-document", kwargs={"token": token})
    return settings.SERVICEHUB["PUBLIC_BASE_URL"].rstrip("/") + path


def fapiao_document_id(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=DOCUMENT_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def _enqueue_issue(fapiao_id: int) -> None:
    def issue_after_commit() -> None:
        from .tasks import fapiao_issue_task

        fapiao_issue_task.delay(fapiao_id)

    # Marked like the outbox's own after-commit dispatch (servicehub.events): the test suite's commit
    # emulation runs it when the outermost atomic block exits, as production runs it after COMMIT.
    issue_after_commit.servicehub_outbox = True  # type: ignore[attr-defined]
    transaction.on_commit(issue_after_commit, robust=True)


def fapiao_request(
    *,
    actor: Actor,
    ticket_id: int,
    buyer_type: str,
    title: str,
    tax_number: str = "",
    email: str = "",
    via: str = RequestedVia.DESK,
) -> FapiaoRequest:
    """Ask for an electronic fapiao for what was paid for a ticket (net of refunds); issued after commit.

    Changes: inserts a ``requested`` ``FapiaoRequest`` for the amount paid net of refunds, emits
    ``fapiao.requested`` and queues the issuing task (``fapiao_issue``) after commit.
    Refuses: a ticket the actor may not act on (``not_found``, 404); an unknown buyer type, an empty title or a
    bad e-mail (``validation_error``); a company without a tax number or an invalid one
    (``invalid_tax_number``, 422: well-formed, yet not a valid code); nothing paid, or everything refunded
    (``nothing_to_invoice``, 409); a ticket that already has a request (``fapiao_exists``, 409). Two requests
    racing for one ticket serialise on the ticket's row lock; the second gets ``fapiao_exists``.
    """
    if buyer_type not in BuyerType.values:
        raise DomainError("validation_error", _("Choose a person or a company."), field="buyer_type")
    title = " ".join((title or "").split())
    if not title or len(title) > 100:
        raise DomainError(
            "validation_error",
            _("Give the invoice title (the name on the fapiao, up to 100 characters)."),
            field="title",
        )
    tax = (tax_number or "").strip()
    if buyer_type == BuyerType.COMPANY and not tax:
        raise DomainError(
            "invalid_tax_number", _("A company fapiao needs the company's tax number."), status=422, field="tax_number"
        )
    tax = tax_number_clean(tax) if tax else ""
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise DomainError("validation_error", _("Enter a valid e-mail address."), field="email") from exc
    if via not in RequestedVia.values:
        raise DomainError("validation_error", _("Unknown channel."), field="via")
    with transaction.atomic():
        ticket = lock_one(RepairTicket, ticket_id, not_found=_("No such ticket."))
        if not _may_request(actor, ticket):
            raise NotFound(_("No such ticket."))
        if selectors.open_fapiao_exists(ticket_id=ticket.pk):
            raise Conflict("fapiao_exists", _("A fapiao has already been requested for this repair."))
        amount = selectors.subject_paid_net(ticket_id=ticket.pk)
        if amount <= 0:
            raise Conflict(
                "nothing_to_invoice", _("Nothing has been paid for this repair, so there is nothing to invoice.")
            )
        fapiao = FapiaoRequest.objects.create(
            center_id=ticket.center_id,
            ticket=ticket,
            buyer_type=buyer_type,
            title=title,
            tax_number=tax,
            email=email,
            amount=amount,
            requested_via=via,
            requested_by=actor.user if getattr(actor.user, "pk", None) else None,
        )
        emit(
            "fapiao.requested",
            {"fapiao_id": fapiao.pk, "ticket_id": ticket.pk, "amount": str(amount), "via": via},
            center_id=ticket.center_id,
        )
        _enqueue_issue(fapiao.pk)
    return fapiao


def fapiao_issue(*, fapiao_id: int) -> FapiaoRequest:
    """Have the invoicing provider issue a requested fapiao (the task's service; the system acts).

    Changes: a ``requested`` row becomes ``issued`` (number, link, issued_at; ``fapiao.issued``) or, when the
    provider refuses, ``failed`` with the reason (``fapiao.failed``); ``attempts`` counts the calls.
    Idempotent: a row no longer ``requested`` is returned unchanged (a repeated task issues nothing twice;
    the provider is also asked with our request number as its idempotency key).
    Refuses: an unknown id (``not_found``).
    """
    with transaction.atomic():
        fapiao = lock_one(FapiaoRequest, fapiao_id, not_found=_("No such fapiao request."))
        if fapiao.status != FapiaoStatus.REQUESTED:
            return fapiao
        center = ServiceCenter.objects.only("name").get(pk=fapiao.center_id)
        provider = invoicing_provider()
        draft = InvoiceDraft(
            request_no=f"FP{fapiao.pk:010d}",
            buyer_type=fapiao.buyer_type,
            title=fapiao.title,
            tax_number=fapiao.tax_number,
            email=fapiao.email,
            amount=fapiao.amount,
            item=_("Repair service") if fapiao.ticket_id else _("Protection plan"),
            seller_center=center.name,
        )
        fapiao.attempts += 1
        fapiao.provider = getattr(provider, "name", type(provider).__name__)[:32]
        subject: dict[str, int | None] = (
            {"ticket_id": fapiao.ticket_id} if fapiao.ticket_id else {"plan_purchase_id": fapiao.plan_purchase_id}
        )
        try:
            issued = provider.issue(draft)
        except InvoicingError as exc:
            fapiao.status = FapiaoStatus.FAILED
            fapiao.failure_reason = exc.message[:300]
            fapiao.save(update_fields=["status", "failure_reason", "attempts", "provider", "updated_at"])
            emit(
                "fapiao.failed",
                {"fapiao_id": fapiao.pk, "attempts": fapiao.attempts, **subject},
                center_id=fapiao.center_id,
            )
            return fapiao
        fapiao.status = FapiaoStatus.ISSUED
        fapiao.invoice_number = issued.invoice_number
        fapiao.issued_at = issued.issued_at
        fapiao.document = issued.document
        fapiao.pdf_url = issued.pdf_url or fapiao_document_url(fapiao_id=fapiao.pk)
        fapiao.failure_reason = ""
        fapiao.save()
        emit(
            "fapiao.issued",
            {
                "fapiao_id": fapiao.pk,
                "invoice_number": fapiao.invoice_number,
                "amount": str(fapiao.amount),
                **subject,
            },
            center_id=fapiao.center_id,
        )
    return fapiao


def fapiao_retry(*, actor: Actor, fapiao_id: int) -> FapiaoRequest:
    """Ask the provider again for a failed fapiao (the desk's "try again").

    Changes: ``failed`` -> ``requested`` and queues the issuing task after commit.
    Refuses: a request the actor may not act on (``not_found``); a request that has not failed
    (``fapiao_not_failed``, 409).
    """
    with transaction.atomic():
        fapiao = lock_one(FapiaoRequest, fapiao_id, not_found=_("No such fapiao request."))
        staff_ok = actor.is_system or (
            actor.user is not None
            and actor.can_see_center(fapiao.center_id)
            and (actor.has_role("hq") or any(actor.has_role(r, fapiao.center_id) for r in COUNTER_ROLES))
        )
        if not staff_ok:
            raise NotFound(_("No such fapiao request."))
        if fapiao.status != FapiaoStatus.FAILED:
            raise Conflict("fapiao_not_failed", _("Only a failed fapiao can be tried again."))
        fapiao.status = FapiaoStatus.REQUESTED
        fapiao.save(update_fields=["status", "updated_at"])
        _enqueue_issue(fapiao.pk)
    return fapiao


# --- the daily close -----------------------------------------------------------------------------------------


def _money_in(value: Any, *, field: str) -> Decimal:
    try:
        check_ascii_decimal(value)  # "１２" (full-width) is not what the cashier typed on a receipt
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError("validation_error", _("Enter an amount in yuan, e.g. 1280.50."), field=field) from exc
    if not amount.is_finite() or amount < 0 or amount > MONEY_MAX or amount != amount.quantize(CENT):
        raise DomainError("validation_error", _("Enter an amount in yuan, e.g. 1280.50."), field=field)
    return amount.quantize(CENT)


def _snapshot(lines: list[DailyCloseLine]) -> list[dict[str, str]]:
    return [
        {
            "method": line.method,
            "expected": str(line.expected),
            "actual": str(line.actual),
            "difference": str(line.difference),
            "reason": line.reason,
        }
        for line in lines
    ]


def daily_close_close(
    *,
    actor: Actor,
    center_id: int,
    business_date: dt.date,
    cash_counted: Decimal | str,
    reasons: dict[str, str] | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> DailyClose:
    """Close a center's business day against the ledger: one line per method, differences with reasons.

    Expected per method is the ledger's paid minus refunded that local day; cash is compared with
    ``cash_counted`` (the drawer), card, WeChat Pay and Alipay with the settlement provider's totals.
    Changes: creates (or re-uses, after a re-open) the day's ``DailyClose``, writes its lines, sets it
    ``closed`` (who, when), appends a ``DailyCloseHistory`` row and emits ``daily_close.closed``.
    Refuses: a center the actor is not front desk or manager at (``not_found`` when outside their centers,
    ``forbidden`` 403 otherwise); a future day (``validation_error``); a bad cash amount
    (``validation_error``, field ``cash_counted``); a difference without a reason
    (``difference_reason_required``, field ``reason_<method>``); a day already closed (``day_closed``, 409).
    The center row is locked first, then the day's row: two people closing the same day serialise and
    the second gets ``day_closed``. A refusal writes nothing.
    """
    now = now or timezone.now()
    if not actor.can_see_center(center_id):
        raise NotFound(_("No such center."))
    if not (actor.has_role("hq") or any(actor.has_role(r, center_id) for r in COUNTER_ROLES)):
        raise DomainError("forbidden", _("Only the front desk or the center manager closes the day."), status=403)
    if business_date > timezone.localtime(now).date():
        raise DomainError("validation_error", _("A day in the future cannot be closed."), field="business_date")
    counted = _money_in(cash_counted, field="cash_counted")
    reasons = {k: " ".join((v or "").split()) for k, v in (reasons or {}).items()}
    with transaction.atomic():
        lock_one(ServiceCenter, center_id, not_found=_("No such center."))
        close, _created = DailyClose.objects.get_or_create(center_id=center_id, business_date=business_date)
        close = lock_one(DailyClose, close.pk)
        if close.status == CloseStatus.CLOSED:
            raise Conflict("day_closed", _("This day is already closed."))
        expected, actual = selectors.day_figures(center_id=center_id, business_date=business_date, cash_counted=counted)
        lines: list[DailyCloseLine] = []
        for method in Method.values:
            difference = actual[method] - expected[method]
            reason = reasons.get(method, "")
            if difference != 0 and not reason:
                raise DomainError(
                    "difference_reason_required",
                    _("%(method)s differs by %(amount)s: say why before closing the day.")
                    % {"method": Method(method).label, "amount": f"{difference:+.2f}"},
                    field=f"reason_{method}",
                )
            line, _new = DailyCloseLine.objects.update_or_create(
                close=close,
                method=method,
                defaults={
                    "expected": expected[method],
                    "actual": actual[method],
                    "difference": difference,
                    "reason": reason if difference != 0 else "",
                },
            )
            lines.append(line)
        close.status = CloseStatus.CLOSED
        close.closed_by = actor.user if getattr(actor.user, "pk", None) else None
        close.closed_at = now
        close.note = " ".join((note or "").split())[:300]
        close.save(update_fields=["status", "closed_by", "closed_at", "note"])
        DailyCloseHistory.objects.create(
            close=close, action=CloseAction.CLOSED, actor=actor.label, snapshot=_snapshot(lines), at=now
        )
        emit(
            "daily_close.closed",
            {
                "close_id": close.pk,
                "business_date": business_date.isoformat(),
                "differences": {line.method: str(line.difference) for line in lines if line.difference != 0},
            },
            center_id=center_id,
        )
    return close


def daily_close_reopen(*, actor: Actor, close_id: int, reason: str, now: dt.datetime | None = None) -> DailyClose:
    """Re-open a closed day (HQ only) so it can be counted and closed again.

    Changes: ``closed`` -> ``open``; the lines stay until the next close rewrites them, and the history row
    keeps what they said; emits ``daily_close.reopened``.
    Refuses: anyone but HQ (``forbidden``, 403); no reason (``reason_required``); a day that is not closed
    (``day_not_closed``, 409).
    """
    now = now or timezone.now()
    if not (actor.has_role("hq") and actor.sees_all_centers and not actor.is_system):
        raise DomainError("forbidden", _("Only headquarters can re-open a closed day."), status=403)
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("reason_required", _("Say why the day is re-opened."), field="reason")
    with transaction.atomic():
        close = lock_one(DailyClose, close_id, not_found=_("No such daily close."))
        if close.status != CloseStatus.CLOSED:
            raise Conflict("day_not_closed", _("This day is not closed."))
        lines = list(close.lines.order_by("pk"))
        close.status = CloseStatus.OPEN
        close.save(update_fields=["status"])
        DailyCloseHistory.objects.create(
            close=close,
            action=CloseAction.REOPENED,
            actor=actor.label,
            reason=reason,
            snapshot=_snapshot(lines),
            at=now,
        )
        emit(
            "daily_close.reopened",
            {"close_id": close.pk, "business_date": close.business_date.isoformat()},
            center_id=close.center_id,
        )
    return close
