"""Writes of community events and classes (issue #22): sign-ups that never overbook, attendance, results.

Capacity is booking's rule applied to an event: lock the event row (``servicehub.locking.lock_one``), re-check
under the lock, then insert the registration and move ``places_taken`` in the same transaction; a database
CheckConstraint (``places_taken <= capacity``) backs it. Locks go parent first: the event, then its
registrations. Messages (the SMS with the door code, the reminder) are the notifications app's, from the
events emitted here (``outreach.events``).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehub.actors import Actor
from servicehub.errors import DomainError, NotFound
from servicehub.locking import lock, lock_one
from servicehub.phones import mobile_normalize

from . import events
from .choices import EventStatus, RegistrationStatus
from .models import Event, Registration

DOOR_ROLES = ("front_desk", "engineer", "manager")
CODE_DIGITS = 6
# Each public sign-up sends an SMS to the phone given, which nobody verified: a phone is signed up this many
# times a day at most (any events), so the form cannot be used to flood someone with messages.
SIGNUPS_PER_PHONE_PER_DAY = 3


def _lock_event(event_id: int) -> Event:
    """The event row, locked until the transaction ends (the concurrency test's control patches this)."""
    return lock_one(Event.objects.select_related("center"), event_id, not_found=_("No such event."))


def _require_staff(actor: Actor, event: Event) -> None:
    if not isinstance(actor, Actor):
        raise TypeError("outreach staff services need an actor")
    if not actor.can_see_center(event.center_id):
        raise NotFound(_("No such event."))
    if not any(actor.has_role(r, event.center_id) for r in DOOR_ROLES) and not actor.has_role("hq"):
        raise DomainError("permission_denied", _("Your role may not do this at this event."), status=403)


def _new_code(event: Event) -> str:
    """A door code not used at this event yet (the caller holds the event lock)."""
    taken = set(Registration.objects.filter(event=event).values_list("code", flat=True))
    while True:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        if code not in taken:
            return code


def event_register(
    *,
    event_id: int,
    name: str,
    phone: str,
    language: str = "",
    public_only: bool = True,
    now: dt.datetime | None = None,
) -> Registration:
    """Sign someone up for an event: one place, a door code, the SMS with it (``event.registered``).

    Locks the event, re-checks under the lock, inserts the registration and takes the place in one transaction.
    Refuses: ``validation_error`` (400, field ``name``/``phone``: no name, not a mobile number -- the code goes
    by SMS); ``not_found`` (404) for an unknown event, or one not open to the public when ``public_only``;
    ``event_closed`` (409) when the event has started, ended or was cancelled; ``already_registered`` (409)
    when this phone holds a place already; ``event_full`` (409) when no place is left; ``too_many_signups`` (429)
    for a phone signed up ``SIGNUPS_PER_PHONE_PER_DAY`` times in 24 hours (public sign-ups). Nothing is written when
    it refuses.
    """
    name = (name or "").strip()
    if not name:
        raise DomainError("validation_error", _("Enter your name."), field="name")
    phone = mobile_normalize(phone)
    now = now or timezone.now()
    with transaction.atomic():
        event = _lock_event(event_id)
        if public_only and not event.public:
            raise NotFound(_("No such event."))
        if event.status != EventStatus.SCHEDULED or event.starts_at <= now:
            raise DomainError("event_closed", _("Sign-up for this event is closed."), status=409)
        if Registration.objects.filter(event=event, phone=phone).exclude(status=RegistrationStatus.CANCELLED).exists():
            raise DomainError(
                "already_registered", _("This phone number is already signed up for this event."), status=409
            )
        if event.places_taken >= event.capacity:
            raise DomainError("event_full", _("This event is full."), status=409)
        if public_only and (
            Registration.objects.filter(phone=phone, created_at__gt=now - dt.timedelta(days=1)).count()
            >= SIGNUPS_PER_PHONE_PER_DAY
        ):
            raise DomainError(
                "too_many_signups",
                _("This phone number has been signed up too often today. Try again tomorrow, or call the center."),
                status=429,
            )
        registration = Registration.objects.create(
            event=event, name=name[:100], phone=phone, language=(language or "")[:10], code=_new_code(event)
        )
        event.places_taken += 1
        event.save(update_fields=["places_taken", "updated_at"])
        events.event_registered(registration=registration)
    return registration


def _locked_registration(registration_id: int) -> tuple[Event, Registration]:
    event_id = Registration.objects.filter(pk=registration_id).values_list("event_id", flat=True).first()
    if event_id is None:
        raise NotFound(_("No such registration."))
    event = _lock_event(event_id)
    return event, lock_one(Registration, registration_id, not_found=_("No such registration."))


def registration_cancel(*, registration_id: int, actor: Actor, now: dt.datetime | None = None) -> Registration:
    """Cancel a registration before the event ends: its place is free again.

    Refuses: ``not_found`` (404, also another center's); ``permission_denied`` (403); ``invalid_state`` (409)
    when it is not ``registered`` (attended, no-show, cancelled already).
    """
    now = now or timezone.now()
    with transaction.atomic():
        event, registration = _locked_registration(registration_id)
        _require_staff(actor, event)
        if registration.status != RegistrationStatus.REGISTERED:
            raise DomainError("invalid_state", _("Only a registration still waiting can be cancelled."), status=409)
        registration.status, registration.cancelled_at = RegistrationStatus.CANCELLED, now
        registration.save(update_fields=["status", "cancelled_at", "updated_at"])
        event.places_taken = max(event.places_taken - 1, 0)
        event.save(update_fields=["places_taken", "updated_at"])
    return registration


def registration_mark_attended(*, registration_id: int, actor: Actor, now: dt.datetime | None = None) -> Registration:
    """At the door: the person came (a no-show marked too early can still be corrected).

    Refuses: ``not_found`` (404); ``permission_denied`` (403); ``already_attended`` (409); ``invalid_state``
    (409) for a cancelled registration or a cancelled event.
    """
    now = now or timezone.now()
    with transaction.atomic():
        event, registration = _locked_registration(registration_id)
        _require_staff(actor, event)
        if registration.status == RegistrationStatus.ATTENDED:
            raise DomainError(
                "already_attended", _("%(name)s is already checked in.") % {"name": registration.name}, status=409
            )
        if registration.status == RegistrationStatus.CANCELLED or event.status == EventStatus.CANCELLED:
            raise DomainError("invalid_state", _("This registration was cancelled."), status=409)
        registration.status, registration.attended_at = RegistrationStatus.ATTENDED, now
        registration.save(update_fields=["status", "attended_at", "updated_at"])
    return registration


def event_close(
    *,
    event_id: int,
    actor: Actor,
    results_note: str,
    devices_checked: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """After the event: everyone still ``registered`` becomes ``no_show``; the results are written; the event
    is ``done``. Returns how many were marked no-show.

    Refuses: ``not_found``/``permission_denied``; ``event_not_started`` (409) before it started;
    ``invalid_state`` (409) for a cancelled event; ``validation_error`` (field ``results_note``) without a note.
    """
    now = now or timezone.now()
    note = (results_note or "").strip()
    if not note:
        raise DomainError("validation_error", _("Write what was done at the event."), field="results_note")
    with transaction.atomic():
        event = _lock_event(event_id)
        _require_staff(actor, event)
        if event.status == EventStatus.CANCELLED:
            raise DomainError("invalid_state", _("This event was cancelled."), status=409)
        if event.starts_at > now:
            raise DomainError("event_not_started", _("The event has not started yet."), status=409)
        waiting = lock(Registration.objects.filter(event=event, status=RegistrationStatus.REGISTERED))
        Registration.objects.filter(pk__in=[r.pk for r in waiting]).update(
            status=RegistrationStatus.NO_SHOW, updated_at=now
        )
        event.status, event.results_note, event.devices_checked = EventStatus.DONE, note, devices_checked
        event.save(update_fields=["status", "results_note", "devices_checked", "updated_at"])
    return len(waiting)


def event_details_save(*, event: Event, actor: Actor, creating: bool) -> Event:
    """Save what staff edit on an event (title, time, venue, capacity, ...) -- never the places taken.

    A new event starts with no place taken. An existing one is locked and its ``places_taken`` re-read, so a
    sign-up that landed while the form was open is kept. Refuses: ``permission_denied`` (403) for a role other
    than a manager of the center (or HQ); ``validation_error`` (field ``capacity``) below the places taken.
    """
    if not (actor.has_role("manager", event.center_id) or actor.has_role("hq")):
        raise DomainError("permission_denied", _("Managers plan the events of their center."), status=403)
    with transaction.atomic():
        if creating or event.pk is None:
            event.places_taken = 0
            event.save()
            return event
        current = _lock_event(event.pk)
        if not actor.can_see_center(current.center_id):
            raise NotFound(_("No such event."))
        event.places_taken, event.status = current.places_taken, current.status
        if event.capacity < event.places_taken:
            raise DomainError(
                "validation_error", _("The capacity cannot be lower than the places taken."), field="capacity"
            )
        event.save()
    return event


def event_cancel(*, event_id: int, actor: Actor) -> Event:
    """Cancel a scheduled event (sign-up closes; registrations stay on record). Refuses ``invalid_state`` (409)."""
    with transaction.atomic():
        event = _lock_event(event_id)
        _require_staff(actor, event)
        if event.status != EventStatus.SCHEDULED:
            raise DomainError("invalid_state", _("Only a scheduled event can be cancelled."), status=409)
        event.status = EventStatus.CANCELLED
        event.save(update_fields=["status", "updated_at"])
    return event


def registration_mark_reminded(*, registration_id: int, now: dt.datetime | None = None) -> bool:
    """Record that the reminder went out (compare-and-set; False if it already had, or it no longer waits)."""
    return bool(
        Registration.objects.filter(
            pk=registration_id, reminded_at__isnull=True, status=RegistrationStatus.REGISTERED
        ).update(reminded_at=now or timezone.now())
    )
