"""Sign-language video sessions of bookings (手语视频服务, issue #22 item 4): services and their event hooks.

A booking flags the ``sign_language`` need (``booking.services.appointment_book``, the one place appointments are
created); its ``appointment.booked`` event reaches ``sign_session_on_appointment_booked`` through the outbox
(``servicehub.events``, after commit, registered in ``OutreachConfig.ready()``). That creates the session once:
the video provider's meeting (``outreach.video``), the signer picked from the center's staff who sign and are on
shift at the slot (``centers.selectors.signers_on_shift``), and the ``sign_session.scheduled`` event, on which
notifications sends the customer's confirmation with the join link and alerts the center's signers on shift
(else its managers). The session waits on "Today at the desk" until someone marks it prepared
(``sign_session_prepare``).

A cancelled or no-show booking moves its ticket (``ticket.changed``): the session follows
(``sign_session_on_ticket_changed``). A rescheduled booking (``appointment.rescheduled``) moves the session and
picks the signer again.

Replays: the outbox delivers at least once; the session is one per appointment (a OneToOne), created under the
appointment's lock after a re-check, so a second delivery finds it and writes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehub.actors import Actor
from servicehub.errors import DomainError, NotFound
from servicehub.events import emit
from servicehub.locking import lock_one
from servicehub.models import OutboxEvent

from .choices import SignSessionStatus
from .models import SignLanguageSession
from .video import MeetingRequest, video_provider

EVENT_TYPES = {
    "sign_session.scheduled": "A sign-language video session was created for a booking (the customer's "
    "confirmation with the join link and the center's alert follow).",
}

PREPARE_ROLES = ("front_desk", "engineer", "manager")


def _signer_pick(*, center_id: int, at: dt.datetime):
    from centers.selectors import signers_on_shift

    signers = signers_on_shift(center_id=center_id, at=at)
    return signers[0] if signers else None


def sign_session_for_appointment(*, appointment_id: int) -> SignLanguageSession | None:
    """The appointment's session, created if it needs one and has none; None when it needs none.

    Locks the appointment (booking, the lower layer) before the session is written; re-checks under the lock that
    the appointment is still booked with the need. Creates: the meeting at the provider, the row, the
    ``sign_session.scheduled`` event. Idempotent: an appointment that has its session gets it back unchanged.
    """
    from booking.choices import AppointmentStatus, Need
    from booking.models import Appointment

    with transaction.atomic():
        appointment = lock_one(Appointment, appointment_id, not_found=_("No such appointment."))
        existing = SignLanguageSession.objects.filter(appointment_id=appointment.pk).first()
        if existing is not None:
            return existing
        if not (appointment.needs or {}).get(Need.SIGN_LANGUAGE) or appointment.status != AppointmentStatus.BOOKED:
            return None
        minutes = max(int((appointment.end - appointment.start).total_seconds() // 60), 1)
        meeting = video_provider().meeting_create(
            MeetingRequest(
                reference=f"appointment:{appointment.pk}",
                starts_at=appointment.start,
                minutes=max(minutes, getattr(settings, "OUTREACH_SIGN_SESSION_MINUTES", 30)),
                topic=f"ServiceHub {appointment.ticket_id}",
            )
        )
        session = SignLanguageSession.objects.create(
            appointment=appointment,
            center_id=appointment.center_id,
            scheduled_start=appointment.start,
            provider=meeting.provider,
            meeting_id=meeting.meeting_id,
            join_url=meeting.join_url,
            host_url=meeting.host_url,
            signer=_signer_pick(center_id=appointment.center_id, at=appointment.start),
        )
        emit(
            "sign_session.scheduled",
            {
                "session_id": session.pk,
                "appointment_id": appointment.pk,
                "ticket_id": appointment.ticket_id,
                "center_id": appointment.center_id,
            },
            center_id=appointment.center_id,
        )
        return session


def _session_locked(session_id: int) -> SignLanguageSession:
    return lock_one(
        SignLanguageSession.objects.select_related("center"), session_id, not_found=_("No such sign-language session.")
    )


def sign_session_close(*, appointment_id: int, status: str) -> SignLanguageSession | None:
    """Cancel (or mark no-show) the appointment's session when the booking ends without a visit.

    Only a ``scheduled`` session changes; a held, cancelled or no-show one stays as it is. None when the
    appointment has no session."""
    if status not in (SignSessionStatus.CANCELLED, SignSessionStatus.NO_SHOW):
        raise ValueError(status)
    with transaction.atomic():
        session_id = SignLanguageSession.objects.filter(appointment_id=appointment_id).values_list("pk", flat=True)
        if not session_id:
            return None
        session = _session_locked(session_id[0])
        if session.status == SignSessionStatus.SCHEDULED:
            session.status = status
            session.save(update_fields=["status", "updated_at"])
        return session


def sign_session_move(*, appointment_id: int) -> SignLanguageSession | None:
    """Follow a rescheduled appointment: the new start, and the signer picked again for it (the meeting link stays
    the customer's). Only a ``scheduled`` session moves."""
    from booking.models import Appointment

    with transaction.atomic():
        appointment = lock_one(Appointment, appointment_id, not_found=_("No such appointment."))
        session = SignLanguageSession.objects.filter(appointment_id=appointment.pk).first()
        if session is None:
            return None
        session = _session_locked(session.pk)
        if session.status != SignSessionStatus.SCHEDULED or session.scheduled_start == appointment.start:
            return session
        session.scheduled_start = appointment.start
        session.signer = _signer_pick(center_id=appointment.center_id, at=appointment.start)
        session.prepared_at = None  # prepared for another time: prepare again
        session.prepared_by = None
        session.save(update_fields=["scheduled_start", "signer", "prepared_at", "prepared_by", "updated_at"])
        return session


def _require_center_staff(actor: Actor, session: SignLanguageSession) -> None:
    if not isinstance(actor, Actor):
        raise TypeError("sign-language session services need an actor")
    if not actor.can_see_center(session.center_id):
        raise NotFound(_("No such sign-language session."))
    if not any(actor.has_role(r, session.center_id) for r in PREPARE_ROLES) and not actor.has_role("hq"):
        raise DomainError("permission_denied", _("Your role may not prepare this session."), status=403)


def sign_session_prepare(*, session_id: int, actor: Actor, now: dt.datetime | None = None) -> SignLanguageSession:
    """Mark the session's preparation done (the signer is ready, the room and the device are set up).

    Idempotent: a prepared session keeps its first ``prepared_at``. Refuses: ``not_found`` (404) for a session of
    a center the actor does not work at; ``permission_denied`` (403) for a role that does not prepare;
    ``session_closed`` (409) for a cancelled, held or no-show session."""
    with transaction.atomic():
        session = _session_locked(session_id)
        _require_center_staff(actor, session)
        if session.status != SignSessionStatus.SCHEDULED:
            raise DomainError("session_closed", _("This session is not scheduled any more."), status=409)
        if session.prepared_at is None:
            user = actor.user if getattr(actor.user, "pk", None) else None
            session.prepared_at = now or timezone.now()
            session.prepared_by = user
            if session.signer_id is None and user is not None and _signs_here(user.pk, session.center_id):
                session.signer = user
            session.save(update_fields=["prepared_at", "prepared_by", "signer", "updated_at"])
        return session


def _signs_here(user_id: int, center_id: int) -> bool:
    from centers.choices import StaffSkill
    from centers.models import StaffMembership

    skills = StaffMembership.objects.filter(user_id=user_id, center_id=center_id, active=True).values_list(
        "skills", flat=True
    )
    return any(StaffSkill.SIGN_LANGUAGE in (s or []) for s in skills)


def sign_session_mark(*, session_id: int, status: str, actor: Actor) -> SignLanguageSession:
    """Record how the session went: ``held`` or ``no_show`` (after its start). Refuses ``validation_error`` for
    another status, ``session_closed`` (409) for a session that is not scheduled, and as ``sign_session_prepare``
    for who may."""
    if status not in (SignSessionStatus.HELD, SignSessionStatus.NO_SHOW):
        raise DomainError("validation_error", _("Choose held or did not join."), field="status")
    with transaction.atomic():
        session = _session_locked(session_id)
        _require_center_staff(actor, session)
        if session.status != SignSessionStatus.SCHEDULED:
            raise DomainError("session_closed", _("This session is not scheduled any more."), status=409)
        session.status = status
        session.save(update_fields=["status", "updated_at"])
        return session


def sign_sessions_due_to_close(*, now: dt.datetime | None = None) -> list[int]:
    """Ids of sessions still ``scheduled`` whose start is more than ``OUTREACH_SIGN_SESSION_CLOSE_AFTER_MINUTES``
    ago (the periodic job's worklist), oldest first."""
    now = now or timezone.now()
    minutes = getattr(settings, "OUTREACH_SIGN_SESSION_CLOSE_AFTER_MINUTES", 120)
    return list(
        SignLanguageSession.objects.filter(
            status=SignSessionStatus.SCHEDULED, scheduled_start__lt=now - dt.timedelta(minutes=minutes)
        )
        .order_by("scheduled_start", "pk")
        .values_list("pk", flat=True)
    )


def sign_session_close_after_start(*, session_id: int, now: dt.datetime | None = None) -> str | None:
    """Record how a session went when staff did not, from its appointment: the customer came (the ticket left
    ``booked`` for anything but ``cancelled``: checked in at the desk) -> ``held``; else -> ``no_show``.

    Locks the session and re-checks under the lock that it is still ``scheduled`` and past the close-after time
    (staff may have marked it, or the booking moved, meanwhile). Returns the status written, or None when nothing
    changed (so a re-run writes nothing)."""
    from repairs.choices import TicketStatus

    now = now or timezone.now()
    minutes = getattr(settings, "OUTREACH_SIGN_SESSION_CLOSE_AFTER_MINUTES", 120)
    with transaction.atomic():
        session = _session_locked(session_id)
        if session.status != SignSessionStatus.SCHEDULED:
            return None  # marked by staff (or closed with its booking) meanwhile
        if session.scheduled_start >= now - dt.timedelta(minutes=minutes):
            return None  # rescheduled later meanwhile
        ticket_status = (
            SignLanguageSession.objects.filter(pk=session.pk)
            .values_list("appointment__ticket__status", flat=True)
            .first()
        )
        arrived = ticket_status not in (TicketStatus.BOOKED, TicketStatus.CANCELLED)
        session.status = SignSessionStatus.HELD if arrived else SignSessionStatus.NO_SHOW
        session.save(update_fields=["status", "updated_at"])
        return session.status


# --- event hooks (registered in OutreachConfig.ready(); run in the outbox dispatch's transaction) ---------------


def sign_session_on_appointment_booked(event: OutboxEvent) -> None:
    """``appointment.booked``: the session of a booking with the sign-language need."""
    sign_session_for_appointment(appointment_id=event.payload["appointment_id"])


def sign_session_on_appointment_rescheduled(event: OutboxEvent) -> None:
    """``appointment.rescheduled``: the session follows the new slot."""
    sign_session_move(appointment_id=event.payload["appointment_id"])


def sign_session_on_ticket_changed(event: OutboxEvent) -> None:
    """``ticket.changed`` to ``cancelled`` or by ``no_show`` from ``booked``: the booking's session ends with it."""
    from booking.models import Appointment

    p = event.payload
    if p.get("from_status") != "booked" or p.get("from_status") == p.get("to_status"):
        return
    if p.get("to_status") == "cancelled":
        status = SignSessionStatus.NO_SHOW if p.get("action") == "no_show" else SignSessionStatus.CANCELLED
    elif p.get("action") == "no_show":
        status = SignSessionStatus.NO_SHOW
    else:
        return
    appointment_id = Appointment.objects.filter(ticket_id=p["ticket_id"]).values_list("pk", flat=True).first()
    if appointment_id is not None:
        sign_session_close(appointment_id=appointment_id, status=status)


def register() -> None:
    from servicehub.events import event_types_register, subscribe

    event_types_register(EVENT_TYPES)
    subscribe("appointment.booked", sign_session_on_appointment_booked)
    subscribe("appointment.rescheduled", sign_session_on_appointment_rescheduled)
    subscribe("ticket.changed", sign_session_on_ticket_changed)
