"""A minimal RFC 5545 calendar file for an appointment (one VEVENT, times in UTC)."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _


def _escape(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (continuation lines start with a space)."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts, current = [], b""
    for ch in line:
        b = ch.encode("utf-8")
        if len(current) + len(b) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += b
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def appointment_ics(*, appointment, track_url: str) -> str:
    center = appointment.center
    service_no = appointment.ticket.service_no
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//ServiceHub//Appointments//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{service_no}@servicehub",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(appointment.start)}",
        f"DTEND:{_utc(appointment.end)}",
        "SUMMARY:" + _escape(_("Repair appointment %(no)s at %(center)s") % {"no": service_no, "center": center.name}),
        "LOCATION:" + _escape(center.address),
        "DESCRIPTION:"
        + _escape(_("Service number: %(no)s. Track or change it: %(url)s") % {"no": service_no, "url": track_url}),
        f"URL:{track_url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
