"""The one place a phone number is checked and normalised (E.164, Chinese numbers may omit +86).

- ``phone_normalize``: any valid number (a desk may note a landline for a customer);
- ``mobile_normalize``: a number that can receive an SMS (bookings send their confirmation by
  SMS, so web forms and booking services call this one);
- ``is_cn_mobile``: whether a stored number is a mainland Chinese mobile (the SMS gateway's reach).
"""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _

from .errors import DomainError

_MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def _parse_valid(phone: str | None):
    try:
        number = phonenumbers.parse(str(phone or "").strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def phone_normalize(phone: str | None, *, field: str = "phone") -> str:
    """E.164 (``+8613812345678``) of any valid number; refuses (``validation_error`` on ``field``)
    anything else."""
    number = _parse_valid(phone)
    if number is None:
        raise DomainError("validation_error", _("Enter a valid phone number."), field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile_normalize(phone: str | None, *, field: str = "phone") -> str:
    """E.164 of a valid mobile number.

    Refuses (``validation_error`` on ``field``) anything that is not a valid number, and a valid
    landline (``021-61234567``): it cannot receive the SMS with the tracking link.
    """
    number = _parse_valid(phone)
    if number is None:
        raise DomainError("validation_error", _("Enter a valid mobile phone number, e.g. 138 1234 5678."), field=field)
    if phonenumbers.number_type(number) not in _MOBILE:
        raise DomainError(
            "validation_error",
            _("This looks like a landline. Enter a mobile number: we send your booking by SMS."),
            field=field,
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_cn_mobile(phone: str | None) -> bool:
    """A valid mainland China (+86) mobile number: one our SMS gateway reaches. Landlines and foreign numbers are
    not."""
    number = _parse_valid(phone)
    return (
        number is not None
        and phonenumbers.region_code_for_number(number) == "CN"
        and phonenumbers.number_type(number) in _MOBILE
    )
