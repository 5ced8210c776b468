"""Writes of customer self-service. One transaction per function; see each docstring.

Other apps are reached only through their public services (``repairs.services``,
``warranty.services``, ``logistics.services``) and selectors (``centers.selectors``); they
are imported inside the functions because those apps are built alongside this one.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from centers.models import Certification, ServiceCenter, StaffMembership
from repairs.models import RepairTicket
from servicehub.actors import SYSTEM, Actor
from servicehub.errors import DomainError, NotFound
from servicehub.locking import lock, lock_one
from servicehub.phones import mobile_normalize, phone_normalize
from warranty.identity import device_id_require

from . import events
from .addresses import address_parse
from .choices import (
    CALLBACK_RETRY_OUTCOMES,
    NEED_KEYS,
    TIME_WINDOW_HOURS,
    AppointmentStatus,
    CallbackOutcome,
    CallbackStatus,
    CallbackTopic,
    OnSiteStatus,
    TimeWindow,
)
from .models import (
    Appointment,
    CallbackAttempt,
    CallbackRequest,
    MailInRequest,
    OnSiteRequest,
    SlotCounter,
    Survey,
)
from .selectors import (
    appointment_change_deadline,
    booking_settings,
    booking_window,
    center_takes_appointments,
    slot_find,
    slots_nearest_free,
)

ON_SITE_CATEGORIES = ("smart_screen", "pc")
# Devices people carry: on-site only for someone who cannot travel to a center (flagged on the request).
ON_SITE_CANNOT_TRAVEL_CATEGORIES = ("phone", "tablet", "wearable")
MAIL_IN_PICKUP_DAYS_AHEAD = 7


def pickup_window_bounds(*, day: dt.date, window: str) -> tuple[dt.datetime, dt.datetime]:
    """The aware start and end (Asia/Shanghai) of a pickup/visit ``window`` on ``day``."""
    start_h, end_h = TIME_WINDOW_HOURS[window]
    tz = timezone.get_default_timezone()
    return (dt.datetime.combine(day, dt.time(start_h), tzinfo=tz), dt.datetime.combine(day, dt.time(end_h), tzinfo=tz))


# --- helpers -------------------------------------------------------------------------------


def _needs_clean(needs: dict | None) -> dict:
    """Only the known accessibility needs, as booleans; unknown keys are refused."""
    needs = needs or {}
    unknown = sorted(set(needs) - set(NEED_KEYS))
    if unknown:
        raise DomainError("validation_error", _("Unknown need: %s.") % ", ".join(unknown), field="needs")
    return {key: bool(needs.get(key)) for key in NEED_KEYS if needs.get(key)}


def _customer_and_device(*, name, phone, email, language, imei, serial, model_code):
    from repairs.services import customer_get_or_create
    from warranty.services import device_get_or_register

    if not (name or "").strip():
        raise DomainError("validation_error", _("Enter your name."), field="name")
    # Anonymous self-service: the phone finds (or creates) the customer, but the e-mail and
    # language given here stay on the booking's ticket (``ticket_book(contact_email=...)``) --
    # unverified input never changes who receives an existing customer's messages. They change
    # in "my service" (/me/) after an SMS code. A booking's confirmation and updates go by SMS:
    # a landline is refused here (the one check).
    phone = mobile_normalize(phone)
    customer = customer_get_or_create(name=name.strip(), phone=phone)
    device_id_require(imei, serial)
    device = device_get_or_register(imei=imei or None, serial=serial or None, model_code=model_code or None)
    return customer, device


def _lock_counter(*, center: ServiceCenter, start: dt.datetime, capacity: int) -> SlotCounter:
    """The slot's counter row, created if missing, locked until the transaction ends (concurrency tests patch this)."""
    SlotCounter.objects.bulk_create(
        [SlotCounter(center=center, start=start, capacity=capacity, booked=0)], ignore_conflicts=True
    )
    return lock_one(SlotCounter.objects.filter(center=center, start=start))


def _seat_take(*, center: ServiceCenter, start: dt.datetime, capacity: int) -> SlotCounter:
    """Take one seat of the slot or raise ``slot_full``; caller holds a transaction."""
    counter = _lock_counter(center=center, start=start, capacity=capacity)
    # Re-check under the lock: the capacity in force now, never below what is already booked.
    counter.capacity = max(capacity, counter.booked)
    if counter.booked >= capacity:
        raise DomainError("slot_full", _("This time slot is fully booked."), status=409, field="start")
    counter.booked += 1
    counter.save(update_fields=["booked", "capacity"])
    return counter


def _seat_release(*, center_id: int, start: dt.datetime) -> None:
    rows = lock(SlotCounter.objects.filter(center_id=center_id, start=start))
    counter = rows[0] if rows else None
    if counter is not None and counter.booked > 0:
        counter.booked -= 1
        counter.save(update_fields=["booked"])


def _slot_or_error(*, center: ServiceCenter, start: dt.datetime, now: dt.datetime):
    if start is None:
        raise DomainError("validation_error", _("Choose a time slot."), field="start")
    if timezone.is_naive(start):
        start = timezone.make_aware(start, timezone.get_default_timezone())
    if start <= now:
        raise DomainError("validation_error", _("This time slot has already started."), field="start")
    if timezone.localdate(start) > booking_window(today=timezone.localdate(now))[1]:
        raise DomainError("validation_error", _("Bookings open at most 30 days ahead."), field="start")
    tpl = slot_find(center=center, start=start)
    if tpl is None:
        raise DomainError(
            "validation_error", _("The center has no appointment slot starting at this time."), field="start"
        )
    return tpl


def _with_alternatives(err: DomainError, *, center: ServiceCenter, start: dt.datetime, now: dt.datetime):
    if err.code == "slot_full":
        err.extra["alternatives"] = [
            {"start": s.start.isoformat(), "end": s.end.isoformat(), "available": s.available}
            for s in slots_nearest_free(center=center, around=start, now=now)
        ]
    return err


# --- appointments --------------------------------------------------------------------------


def appointment_book(
    *,
    center: ServiceCenter,
    start: dt.datetime,
    name: str,
    phone: str,
    issue: str,
    email: str = "",
    language: str | None = None,
    imei: str = "",
    serial: str = "",
    model_code: str = "",
    fault_category: str = "other",
    needs: dict | None = None,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book one seat of a slot: a ticket (status ``booked``, channel ``appointment``) and its Appointment,
    and queue the confirmation SMS with the tracking link (``booking.events``, same transaction).

    Locks the slot's counter row, re-checks the seats left under the lock, then writes.
    Refuses: ``validation_error`` (400; field ``start``/``name``/``phone``/``imei``/``model``/
    ``issue``/``needs``) for a slot that does not exist, has started or is too far ahead, and
    bad customer or device data; ``slot_full`` (409, with ``alternatives``: the nearest free
    slots) when no seat is left. Nothing is written when it refuses.
    """
    from repairs.services import ticket_book

    now = now or timezone.now()
    if not center_takes_appointments(center=center):
        raise DomainError("validation_error", _("This center does not take appointments."), field="center")
    tpl = _slot_or_error(center=center, start=start, now=now)
    slot_start, slot_end, capacity = tpl
    if not (issue or "").strip():
        raise DomainError("validation_error", _("Describe the problem."), field="issue")
    clean_needs = _needs_clean(needs)
    try:
        with transaction.atomic():
            customer, device = _customer_and_device(
                name=name,
                phone=phone,
                email=email,
                language=language,
                imei=imei,
                serial=serial,
                model_code=model_code,
            )
            _seat_take(center=center, start=slot_start, capacity=capacity)
            ticket = ticket_book(
                center=center,
                customer=customer,
                device=device,
                fault_category=fault_category or "other",
                fault_description=issue.strip(),
                needs=clean_needs,
                channel="appointment",
                actor=actor,
                contact_email=email or "",
                contact_language=language or "",
            )
            appointment = Appointment.objects.create(
                ticket=ticket,
                center=center,
                start=slot_start,
                end=slot_end,
                customer=customer,
                device=device,
                issue=issue.strip(),
                needs=clean_needs,
            )
            events.appointment_booked(appointment=appointment)
            return appointment
    except DomainError as err:
        raise _with_alternatives(err, center=center, start=slot_start, now=now) from None


def _appointment_locked(appointment_id: int) -> Appointment:
    """Lock the appointment's ticket, then the appointment (the documented order: ticket before appointment).

    The ticket id of an appointment never changes, so reading it before the locks is safe; the
    ticket's status is read after them (``select_related`` runs with the appointment's lock).
    """
    ticket_id = Appointment.objects.filter(pk=appointment_id).values_list("ticket_id", flat=True).first()
    if ticket_id is None:
        raise NotFound(_("No such appointment."))
    lock_one(RepairTicket, ticket_id)
    return lock_one(
        Appointment.objects.select_related("ticket", "center"), appointment_id, not_found=_("No such appointment.")
    )


def _local_minutes(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _check_changeable(appointment: Appointment, now: dt.datetime) -> None:
    if appointment.status != AppointmentStatus.BOOKED or appointment.ticket.status != "booked":
        raise DomainError("invalid_transition", _("This appointment can no longer be changed."), status=409)
    if now >= appointment_change_deadline(appointment=appointment):
        raise DomainError(
            "too_late",
            _("Appointments can be changed until %(minutes)s minutes before the start.")
            % {"minutes": booking_settings()["CHANGE_CUTOFF_MINUTES"]},
            status=409,
        )


def appointment_cancel(
    *, appointment_id: int, actor: Actor | None = None, now: dt.datetime | None = None
) -> Appointment:
    """Cancel a booked appointment before the cut-off: frees its seat, cancels its ticket.

    Refuses: ``not_found`` (404); ``invalid_transition`` (409) when it is not booked any more
    (checked in, cancelled, no-show); ``too_late`` (409) after the cut-off.
    """
    from repairs.services import ticket_transition
    from repairs.workflow import CustomerActor

    now = now or timezone.now()
    with transaction.atomic():
        appointment = _appointment_locked(appointment_id)
        _check_changeable(appointment, now)
        actor = actor or CustomerActor(ticket_id=appointment.ticket_id)
        _seat_release(center_id=appointment.center_id, start=appointment.start)
        appointment.status = AppointmentStatus.CANCELLED
        appointment.save(update_fields=["status", "updated_at"])
        ticket_transition(
            ticket_id=appointment.ticket_id,
            action="cancel",
            actor=actor,
            note=_("Appointment cancelled by the customer."),
        )
    return appointment


def appointment_reschedule(
    *, appointment_id: int, start: dt.datetime, actor: Actor | None = None, now: dt.datetime | None = None
) -> Appointment:
    """Move a booked appointment to another slot of the same center before the cut-off.

    Locks the appointment, then both slot counters in time order (no deadlock between two
    reschedules). Refuses: ``not_found``; ``invalid_transition``/``too_late`` (409) as for
    cancelling; ``validation_error`` (field ``start``) for a slot that does not exist or the
    same slot; ``slot_full`` (409, with ``alternatives``) when the new slot has no seat left.
    Writes the ``reschedule`` row of the ticket's timeline (old and new start).
    """
    from repairs.services import ticket_note_add
    from repairs.workflow import CustomerActor

    now = now or timezone.now()
    try:
        with transaction.atomic():
            appointment = _appointment_locked(appointment_id)
            _check_changeable(appointment, now)
            new_start, new_end, capacity = _slot_or_error(center=appointment.center, start=start, now=now)
            if new_start == appointment.start:
                raise DomainError("validation_error", _("This is already your time slot."), field="start")
            # Lock both counters in time order.
            old_start = appointment.start
            if old_start < new_start:
                _seat_release(center_id=appointment.center_id, start=old_start)
                _seat_take(center=appointment.center, start=new_start, capacity=capacity)
            else:
                _seat_take(center=appointment.center, start=new_start, capacity=capacity)
                _seat_release(center_id=appointment.center_id, start=old_start)
            appointment.start, appointment.end = new_start, new_end
            appointment.reschedule_count += 1
            appointment.reminded_at = None
            appointment.save(update_fields=["start", "end", "reschedule_count", "reminded_at", "updated_at"])
            # The history row: the ticket's timeline says when the appointment moved, from when to when.
            ticket_note_add(
                ticket_id=appointment.ticket_id,
                action="reschedule",
                actor=actor or CustomerActor(ticket_id=appointment.ticket_id),
                note=_("Appointment moved from %(old)s to %(new)s.")
                % {"old": _local_minutes(old_start), "new": _local_minutes(new_start)},
            )
            events.appointment_rescheduled(appointment=appointment)
            return appointment
    except DomainError as err:
        if err.code == "slot_full":
            center = Appointment.objects.select_related("center").get(pk=appointment_id).center
            raise _with_alternatives(err, center=center, start=start, now=now) from None
        raise


def appointments_mark_no_shows(*, now: dt.datetime | None = None) -> int:
    """Mark appointments whose slot ended (plus a grace period) without a check-in as no-shows.

    For each: locks the appointment, re-checks it is still booked with its ticket still
    ``booked``, sets ``no_show`` and moves the ticket with the ``no_show`` action. Idempotent:
    a second run finds nothing. Returns how many were marked.
    """
    from repairs.services import ticket_transition

    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=booking_settings()["NO_SHOW_GRACE_MINUTES"])
    ids = list(
        Appointment.objects.filter(status=AppointmentStatus.BOOKED, ticket__status="booked", end__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    marked = 0
    for appointment_id in ids:
        with transaction.atomic():
            appointment = _appointment_locked(appointment_id)
            if appointment.status != AppointmentStatus.BOOKED or appointment.ticket.status != "booked":
                continue
            appointment.status = AppointmentStatus.NO_SHOW
            appointment.save(update_fields=["status", "updated_at"])
            ticket_transition(
                ticket_id=appointment.ticket_id,
                action="no_show",
                actor=SYSTEM,
                note=_("The customer did not come to the appointment."),
            )
            marked += 1
    return marked


def appointment_mark_reminded(*, appointment_id: int, now: dt.datetime | None = None) -> bool:
    """Record that the reminder went out (compare-and-set; False if it already had)."""
    return bool(
        Appointment.objects.filter(pk=appointment_id, reminded_at__isnull=True).update(
            reminded_at=now or timezone.now()
        )
    )


# --- mail-in and on-site -------------------------------------------------------------------


def mail_in_request_create(
    *,
    name: str,
    phone: str,
    issue: str,
    pickup_address: str,
    email: str = "",
    language: str | None = None,
    imei: str = "",
    serial: str = "",
    model_code: str = "",
    fault_category: str = "other",
    actor: Actor | None = None,
    pickup_date: dt.date | None = None,
    pickup_window: str = "",
    now: dt.datetime | None = None,
) -> MailInRequest:
    """Free two-way mail-in: parse the pickup address (cpca), route to the province's mail-in hub,
    book a ticket (channel ``mail_in``) and create the outbound pickup shipment with the pickup
    window (``pickup_date`` tomorrow … 7 days ahead, ``pickup_window`` a ``TimeWindow``; default
    tomorrow morning). The shipment tells the customer the window by SMS (logistics.events).

    Refuses: ``validation_error`` (field ``pickup_address``) when no province is recognised,
    (field ``pickup_date``/``pickup_window``) for a day or window out of range,
    (field ``issue``/``name``/``phone``/``imei``/``model``) for bad input; ``no_hub`` (422) when
    the province has no mail-in hub. Nothing is written when it refuses.
    """
    today = timezone.localdate(now or timezone.now())
    pickup_date = pickup_date or today + dt.timedelta(days=1)
    pickup_window = pickup_window or TimeWindow.MORNING
    if not (today < pickup_date <= today + dt.timedelta(days=MAIL_IN_PICKUP_DAYS_AHEAD)):
        raise DomainError(
            "validation_error", _("Choose a pickup day between tomorrow and 7 days ahead."), field="pickup_date"
        )
    if pickup_window not in TimeWindow.values:
        raise DomainError("validation_error", _("Choose a time window."), field="pickup_window")
    pickup_from, pickup_until = pickup_window_bounds(day=pickup_date, window=pickup_window)
    from centers.models import Region
    from centers.selectors import province_mail_in_hub
    from logistics.services import shipment_create
    from repairs.services import ticket_book

    parsed = address_parse(pickup_address)
    if parsed is None:
        raise DomainError(
            "validation_error",
            _("We could not find the province in this address; start with the province and city."),
            field="pickup_address",
        )
    if not (issue or "").strip():
        raise DomainError("validation_error", _("Describe the problem."), field="issue")
    province = (
        Region.objects.filter(adcode=parsed.province_adcode).first()
        or Region.objects.filter(level="province", name=parsed.province).first()
    )
    hub = province_mail_in_hub(province=province) if province is not None else None
    if hub is None:
        raise DomainError(
            "no_hub",
            _("Mail-in repair is not available in %(province)s yet.") % {"province": parsed.province},
            status=422,
            field="pickup_address",
        )
    with transaction.atomic():
        customer, device = _customer_and_device(
            name=name, phone=phone, email=email, language=language, imei=imei, serial=serial, model_code=model_code
        )
        ticket = ticket_book(
            center=hub,
            customer=customer,
            device=device,
            fault_category=fault_category or "other",
            fault_description=issue.strip(),
            channel="mail_in",
            actor=actor,
            contact_email=email or "",
            contact_language=language or "",
        )
        request = MailInRequest.objects.create(
            ticket=ticket,
            hub=hub,
            pickup_address=pickup_address.strip(),
            province=parsed.province,
            city=parsed.city,
            county=parsed.county,
            adcode=parsed.adcode,
        )
        request.shipment = shipment_create(
            ticket=ticket,
            leg="customer_to_hub",
            address=pickup_address.strip(),
            courier=booking_settings()["MAIL_IN_COURIER"],
            actor=actor,
            pickup_from=pickup_from,
            pickup_until=pickup_until,
        )
    return request


def on_site_request_create(
    *,
    center: ServiceCenter,
    name: str,
    phone: str,
    issue: str,
    address: str,
    preferred_date: dt.date,
    window: str,
    email: str = "",
    language: str | None = None,
    imei: str = "",
    serial: str = "",
    model_code: str = "",
    fault_category: str = "other",
    actor: Actor | None = None,
    now: dt.datetime | None = None,
    cannot_travel: bool = False,
) -> OnSiteRequest:
    """An engineer visit for a smart screen or PC -- or for a phone, tablet or watch of someone who
    cannot travel to a center (``cannot_travel``, flagged on the request for the center):
    a ticket (channel ``on_site``) and the request.

    Refuses ``validation_error`` for: a center without on-site service (``center``), a device
    that is not a smart screen or PC (``model``) unless ``cannot_travel`` and a carried device,
    a date in the past or over 30 days ahead
    (``preferred_date``), an unknown window (``window``), an address without a province
    (``address``), bad customer/device data. Nothing is written when it refuses.
    """
    from repairs.services import ticket_book

    today = timezone.localdate(now or timezone.now())
    if not center.active or "on_site" not in (center.services or []):
        raise DomainError("validation_error", _("This center does not offer on-site service."), field="center")
    if preferred_date is None or not (today < preferred_date <= today + dt.timedelta(days=30)):
        raise DomainError(
            "validation_error", _("Choose a date between tomorrow and 30 days ahead."), field="preferred_date"
        )
    if window not in TimeWindow.values:
        raise DomainError("validation_error", _("Choose a time window."), field="window")
    parsed = address_parse(address)
    if parsed is None:
        raise DomainError("validation_error", _("Enter the full address, starting with the province."), field="address")
    if not (issue or "").strip():
        raise DomainError("validation_error", _("Describe the problem."), field="issue")
    with transaction.atomic():
        customer, device = _customer_and_device(
            name=name, phone=phone, email=email, language=language, imei=imei, serial=serial, model_code=model_code
        )
        allowed = ON_SITE_CATEGORIES + (ON_SITE_CANNOT_TRAVEL_CATEGORIES if cannot_travel else ())
        if device.model.category not in allowed:
            raise DomainError(
                "validation_error",
                _("On-site service is for smart screens and PCs, and for phones of people who cannot travel."),
                field="model",
            )
        ticket = ticket_book(
            center=center,
            customer=customer,
            device=device,
            fault_category=fault_category or "other",
            fault_description=issue.strip(),
            channel="on_site",
            actor=actor,
            contact_email=email or "",
            contact_language=language or "",
        )
        return OnSiteRequest.objects.create(
            ticket=ticket,
            center=center,
            address=address.strip(),
            province=parsed.province,
            city=parsed.city,
            county=parsed.county,
            preferred_date=preferred_date,
            window=window,
            cannot_travel=bool(cannot_travel),
        )


def on_site_engineer_assign(*, request_id: int, engineer, actor: Actor) -> OnSiteRequest:
    """Assign a certified engineer of the request's center.

    Refuses: ``not_found`` (404, also when the actor cannot see the center);
    ``permission_denied`` (403) unless the actor is a manager/front desk of the center;
    ``invalid_transition`` (409) for a cancelled request; ``not_certified`` (422) when the user
    is not an active engineer of the center with a certification valid on the visit date.
    Writes the ``on_site_assign`` row of the ticket's timeline.
    """
    with transaction.atomic():
        request = lock_one(OnSiteRequest, request_id, not_found=_("No such on-site request."))
        if not actor.can_see_center(request.center_id):
            raise NotFound(_("No such on-site request."))
        if not (actor.has_role("manager", request.center_id) or actor.has_role("front_desk", request.center_id)):
            raise DomainError("permission_denied", _("Only the center's staff can assign engineers."), status=403)
        if request.status == OnSiteStatus.CANCELLED:
            raise DomainError("invalid_transition", _("This request was cancelled."), status=409)
        is_engineer = StaffMembership.objects.filter(
            user=engineer, center_id=request.center_id, role="engineer", active=True
        ).exists()
        certified = Certification.objects.filter(
            user=engineer, issued_on__lte=request.preferred_date, expires_on__gte=request.preferred_date
        ).exists()
        if not (is_engineer and certified):
            raise DomainError(
                "not_certified",
                _("Choose an engineer of this center with a certification valid on the visit date."),
                status=422,
                field="engineer",
            )
        request.engineer = engineer
        request.status = OnSiteStatus.ASSIGNED
        request.save(update_fields=["engineer", "status", "updated_at"])
        # The history row of the assignment, on the ticket's timeline.
        from repairs.services import ticket_note_add

        ticket_note_add(
            ticket_id=request.ticket_id,
            action="on_site_assign",
            actor=actor,
            note=_("On-site engineer assigned: %(name)s.")
            % {"name": engineer.get_full_name() or engineer.get_username()},
        )
        return request


# --- hotline callbacks -------------------------------------------------------------------


def callback_request_create(
    *, name: str, phone: str, topic: str, preferred_window: str, note: str = "", language: str = "zh-hans"
) -> CallbackRequest:
    """Ask the hotline to call back. Refuses ``validation_error`` (name/phone/topic/preferred_window)."""
    if not (name or "").strip():
        raise DomainError("validation_error", _("Enter your name."), field="name")
    normalised = phone_normalize(phone)
    if topic not in CallbackTopic.values:
        raise DomainError("validation_error", _("Choose a topic."), field="topic")
    if preferred_window not in TimeWindow.values:
        raise DomainError("validation_error", _("Choose a time window."), field="preferred_window")
    with transaction.atomic():
        return CallbackRequest.objects.create(
            name=name.strip(),
            phone=normalised,
            topic=topic,
            preferred_window=preferred_window,
            note=(note or "").strip(),
            language=language or "zh-hans",
        )


def callback_request_mark_done(*, callback_id: int, actor: Actor) -> CallbackRequest:
    """Mark a callback as done, outcome ``resolved`` (idempotent: a done one stays as it was).

    The admin's bulk action; ``callback_outcome_log`` is the one with an outcome, a note and tickets.
    Refuses ``not_found``."""
    with transaction.atomic():
        callback = lock_one(CallbackRequest, callback_id, not_found=_("No such callback request."))
        if callback.status == CallbackStatus.OPEN:
            _callback_close(callback, outcome=CallbackOutcome.RESOLVED, note="", actor=actor, now=timezone.now())
        return callback


def callback_staff(actor: Actor) -> bool:
    """Hotline work is for staff people (a role at a center, HQ, or a superuser), not partner keys or jobs."""
    user = actor.user
    if user is None or not getattr(user, "pk", None) or not user.is_active:
        return False
    return bool(user.is_superuser or any(actor.roles.values()))


def _callback_close(callback: CallbackRequest, *, outcome: str, note: str, actor: Actor, now: dt.datetime) -> None:
    user = actor.user if getattr(actor.user, "pk", None) else None
    CallbackAttempt.objects.create(callback=callback, outcome=outcome, note=note, by=user, at=now)
    callback.status = CallbackStatus.DONE
    callback.outcome = outcome
    callback.handled_by = user
    callback.handled_at = now
    callback.save(update_fields=["status", "outcome", "handled_by", "handled_at"])


def _callback_tickets_check(*, customer_id: int, ticket_ids: list[int], actor: Actor) -> list[RepairTicket]:
    """The tickets to link: each the customer's own and at a center the actor works for; else ``not_found``.

    One answer for "no such ticket", "another customer's" and "another center's": the hotline learns
    nothing about tickets it may not see (BOLA)."""
    tickets = list(RepairTicket.objects.filter(pk__in=ticket_ids, customer_id=customer_id).order_by("pk"))
    visible = [
        t
        for t in tickets
        if actor.can_see_center(t.center_id)
        or (t.origin_center_id is not None and actor.can_see_center(t.origin_center_id))
    ]
    if len(visible) != len(set(ticket_ids)):
        raise DomainError("not_found", _("No such repair for this customer."), status=404, field="tickets")
    return visible


def callback_outcome_log(
    *,
    callback_id: int,
    outcome: str,
    note: str = "",
    customer_id: int | None = None,
    ticket_ids: list[int] | None = None,
    actor: Actor,
    now: dt.datetime | None = None,
) -> CallbackRequest:
    """Log one call back: its outcome and note (a ``CallbackAttempt`` row), the customer the caller turned out
    to be and the repairs talked about (picked by staff from that customer's tickets).

    ``no_answer`` keeps the request open and counts the attempt; any other outcome closes it, and each linked
    ticket's timeline gets a ``callback`` row. Linking records who the caller was on *this request* only: the
    customer record, its phone and who receives its messages are untouched.

    Locks the tickets (repairs, the lower layer) before the request. Refuses: ``permission_denied`` (403) for
    someone who is not staff; ``not_found`` (404) for an unknown request, customer, or a ticket that is not this
    customer's or not at the actor's centers; ``validation_error`` (400) for an unknown outcome, tickets without
    a customer, or a closing outcome other than "no answer" without a note; ``callback_closed`` (409) when the
    request was closed already. Nothing is written when it refuses.
    """
    from repairs.models import Customer
    from repairs.services import ticket_note_add

    if not callback_staff(actor):
        raise DomainError("permission_denied", _("Only staff log hotline calls."), status=403)
    if outcome not in CallbackOutcome.values:
        raise DomainError("validation_error", _("Choose an outcome."), field="outcome")
    note = (note or "").strip()
    ticket_ids = sorted({int(t) for t in ticket_ids or ()})
    now = now or timezone.now()
    with transaction.atomic():
        current = CallbackRequest.objects.filter(pk=callback_id).values_list("customer_id", flat=True).first()
        if current is None and not CallbackRequest.objects.filter(pk=callback_id).exists():
            raise NotFound(_("No such callback request."))
        customer_id = customer_id if customer_id is not None else current
        if ticket_ids and customer_id is None:
            raise DomainError("validation_error", _("Pick the customer before their repairs."), field="tickets")
        if customer_id is not None and not Customer.objects.filter(pk=customer_id).exists():
            raise DomainError("not_found", _("No such customer."), status=404, field="customer")
        linked = list(
            RepairTicket.objects.filter(callback_requests=callback_id).order_by("pk").values_list("pk", flat=True)
        )
        new_tickets = (
            _callback_tickets_check(customer_id=customer_id, ticket_ids=ticket_ids, actor=actor)
            if ticket_ids and customer_id is not None
            else []
        )
        # Parents before children: the tickets (repairs) are locked before the request (booking).
        lock(RepairTicket.objects.filter(pk__in=sorted(set(linked) | set(ticket_ids))))
        callback = lock_one(CallbackRequest, callback_id, not_found=_("No such callback request."))
        if callback.status != CallbackStatus.OPEN:
            raise DomainError("callback_closed", _("This callback was closed already."), status=409)
        if callback.customer_id is not None and customer_id != callback.customer_id and linked:
            raise DomainError(
                "validation_error", _("This request is linked to another customer's repairs."), field="customer"
            )
        if outcome not in CALLBACK_RETRY_OUTCOMES and outcome != CallbackOutcome.RESOLVED and not note:
            raise DomainError("validation_error", _("Write what was agreed."), field="note")
        if customer_id != callback.customer_id:
            callback.customer_id = customer_id
            callback.save(update_fields=["customer"])
        if new_tickets:
            callback.tickets.add(*new_tickets)
        if outcome in CALLBACK_RETRY_OUTCOMES:
            user = actor.user if getattr(actor.user, "pk", None) else None
            CallbackAttempt.objects.create(callback=callback, outcome=outcome, note=note, by=user, at=now)
            callback.attempts += 1
            callback.save(update_fields=["attempts"])
            return callback
        _callback_close(callback, outcome=outcome, note=note, actor=actor, now=now)
        label = CallbackOutcome(outcome).label
        for ticket_id in sorted(set(linked) | {t.pk for t in new_tickets}):
            ticket_note_add(
                ticket_id=ticket_id,
                action="callback",
                actor=actor,
                note=(_("Hotline call back: %(outcome)s.") % {"outcome": label}) + (f" {note}" if note else ""),
            )
        return callback


# --- surveys -------------------------------------------------------------------------------

SURVEY_OPEN_STATUSES = ("delivered", "closed")


def survey_submit(
    *,
    ticket_id: int,
    overall: int,
    staff: int,
    speed: int,
    quality: int,
    comment: str = "",
    recommend: int | None = None,
) -> Survey:
    """Record the satisfaction survey of a handed-back repair (one per ticket).

    ``recommend`` is the optional 0-10 "would you recommend us" answer (NPS).
    Locks the ticket row so two submissions cannot both pass the check. Refuses:
    ``not_found`` (404); ``survey_not_open`` (409) before hand-back or for a cancelled
    ticket; ``survey_exists`` (409) when already answered; ``validation_error`` (field =
    the aspect) for stars outside 1-5 or a recommendation outside 0-10.
    """
    ratings = {"overall": overall, "staff": staff, "speed": speed, "quality": quality}
    for aspect, value in ratings.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise DomainError("validation_error", _("Choose 1 to 5 stars."), field=aspect)
    if recommend is not None and (
        not isinstance(recommend, int) or isinstance(recommend, bool) or not 0 <= recommend <= 10
    ):
        raise DomainError("validation_error", _("Choose a number from 0 to 10."), field="recommend")
    with transaction.atomic():
        ticket = lock_one(RepairTicket, ticket_id, not_found=_("No such repair."))
        if ticket.status not in SURVEY_OPEN_STATUSES:
            raise DomainError("survey_not_open", _("The survey opens once the device is back with you."), status=409)
        if Survey.objects.filter(ticket=ticket).exists():
            raise DomainError("survey_exists", _("Thank you, this repair has already been rated."), status=409)
        return Survey.objects.create(
            ticket=ticket,
            center_id=ticket.center_id,
            engineer_id=ticket.engineer_id,
            comment=(comment or "").strip(),
            recommend=recommend,
            **ratings,
        )


# --- plan checkout -------------------------------------------------------------------------


def plan_order_checkout(*, imei: str, plan_code: str, method: str, now: dt.datetime | None = None):
    """Buy a plan for a device on the web, paid by WeChat Pay or Alipay: returns the pending ``Payment``.

    One transaction: eligibility is checked by the warranty service, the purchase is written ``pending``
    (it covers nothing yet), the price becomes due on it and the QR order starts through the payments
    providers (the same ones as the counter's). The provider's notification settles the payment and that
    activates the plan (``payments.services``); an order never paid is cancelled by ``plan_orders_abandon``.
    Refuses: ``not_found`` (IMEI), 422 ``not_eligible`` (from warranty), ``validation_error`` (method),
    502 ``provider_error`` (nothing is kept).
    """
    from payments.services import plan_order_qr
    from warranty.selectors import device_find, plan_price_for, plans_on_sale
    from warranty.services import plan_purchase_create

    device = device_find(imei=imei)
    if device is None:
        raise NotFound(_("No device with this IMEI is registered."), field="imei")
    offer = next((p for p in plans_on_sale(model=device.model) if p.code == plan_code), None)
    if offer is None:
        raise DomainError("not_eligible", _("This plan cannot be bought for this device."), status=422, field="plan")
    amount = plan_price_for(product=offer, tier=device.model.tier)
    if amount is None:  # on sale but not priced for this tier: not for sale to this device
        raise DomainError("not_eligible", _("This plan cannot be bought for this device."), status=422, field="plan")
    with transaction.atomic():
        purchase = plan_purchase_create(
            device=device,
            plan_code=plan_code,
            purchased_at=now or timezone.now(),
            price=amount,
            channel="web",
            actor=SYSTEM,  # the customer on the web: no staff or partner scope applies
            awaiting_payment=True,
        )
        return plan_order_qr(plan_purchase_id=purchase.pk, method=method)


def plan_orders_abandon(*, older_than: dt.timedelta = dt.timedelta(minutes=30), now: dt.datetime | None = None) -> int:
    """Cancel web plan orders still unpaid after ``older_than``: their pending QR payments and the purchases.

    A notification that arrives later still settles the payment (the provider took the money); the payments
    service then refunds it, as the plan is no longer waiting. Returns how many orders were cancelled.
    """
    from payments.choices import PaymentStatus as MoneyStatus
    from payments.models import Payment
    from payments.services import payment_cancel
    from warranty.models import PlanPurchase
    from warranty.services import plan_purchase_abandon

    cutoff = (now or timezone.now()) - older_than
    ids = list(
        PlanPurchase.objects.filter(status="pending", channel="web", purchased_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    for purchase_id in ids:
        with transaction.atomic():
            for payment_id in Payment.objects.filter(
                plan_purchase_id=purchase_id, status=MoneyStatus.PENDING
            ).values_list("pk", flat=True):
                payment_cancel(payment_id=payment_id, actor=SYSTEM)
            plan_purchase_abandon(purchase_id=purchase_id, actor=SYSTEM, note="not paid within the time allowed")
    return len(ids)


def plan_orders_refund_cancelled() -> int:
    """Refunds still owed on cancelled web plan orders (``payments.services.plan_orders_refund_cancelled``)."""
    from payments.services import plan_orders_refund_cancelled as refund_cancelled

    return refund_cancelled()
