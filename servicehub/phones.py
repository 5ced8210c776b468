"""The one check of a customer's mobile number (bookings send their confirmation by SMS).

``repairs.services.phone_normalize`` accepts any valid number (a desk may note a landline);
a booking needs a number that can receive an SMS, so web forms and booking services both call
``mobile_normalize``.
"""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _

from .errors import DomainError

_MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def mobile_normalize(phone: str, *, field: str = "phone") -> str:
    """E.164 of a valid mobile number (Chinese numbers may omit +86).

    Refuses (``validation_error`` on ``field``) anything that is not a valid number, and a valid
    landline (``021-61234567``): it cannot receive the SMS with the tracking link.
    """
    try:
        number = phonenumbers.parse(str(phone or "").strip(), "CN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise DomainError("validation_error", _("Enter a valid mobile phone number, e.g. 138 1234 5678."), field=field)
    if phonenumbers.number_type(number) not in _MOBILE:
        raise DomainError(
            "validation_error",
            _("This looks like a landline. Enter a mobile number: we send your booking by SMS."),
            field=field,
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
