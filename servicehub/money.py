"""Money is Decimal CNY with 2 places, rounded half-up like a cashier.

Money typed by a person or a partner is parsed from ASCII only: ``Decimal()``
happily reads any Unicode digit ("１２９" full-width, "١٢٩" Arabic-Indic) as
129, which lets look-alike input slip past checks that compare strings and
lands numbers nobody typed on a receipt. ``install_decimal_input_guards()``
(called from ``ServiceHubConfig.ready``) puts the same rule in front of every
DRF ``DecimalField`` and every Django form ``DecimalField`` (admin included).
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Largest amount a money column (max_digits=10, decimal_places=2) holds.
MONEY_MAX = Decimal("99999999.99")

# A plain decimal as people type it: optional sign, ASCII digits, one optional point.
_ASCII_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$", re.ASCII)


class NonAsciiDigitsError(InvalidOperation):
    """A money string that is not plain ASCII digits (full-width, other scripts, exponents)."""


def check_ascii_decimal(value) -> None:
    """Raise ``NonAsciiDigitsError`` when a string is not a plain ASCII decimal.

    Non-strings (Decimal, int, float) pass: they were not typed. Surrounding
    whitespace is allowed (forms strip it anyway).
    """
    if isinstance(value, str) and not _ASCII_DECIMAL.match(value.strip()):
        raise NonAsciiDigitsError(value)


def money(value) -> Decimal:
    """Return ``value`` as a Decimal rounded to the cent (never a float detour).

    Refuses strings that are not plain ASCII decimals (``NonAsciiDigitsError``,
    an ``InvalidOperation``) so "１２９" is not silently 129.
    """
    if isinstance(value, float):
        value = repr(value)
    check_ascii_decimal(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


_installed = False


def install_decimal_input_guards() -> None:
    """Make DRF's and Django forms' ``DecimalField`` refuse non-ASCII digit strings.

    Both parse with ``Decimal(str(value))``, which reads Unicode digits. The
    guard runs first and answers with the field's own ``invalid`` message, so
    the API says ``validation_error`` (400) and a form shows its usual error.
    Idempotent.
    """
    global _installed
    if _installed:
        return
    from django import forms
    from rest_framework import fields as drf_fields

    drf_to_internal = drf_fields.DecimalField.to_internal_value

    def drf_guarded(self, data):
        try:
            check_ascii_decimal(data)
        except NonAsciiDigitsError:
            self.fail("invalid")
        return drf_to_internal(self, data)

    drf_fields.DecimalField.to_internal_value = drf_guarded  # type: ignore[method-assign]  # deliberate: installs the input guard

    form_to_python = forms.DecimalField.to_python

    def form_guarded(self, value):
        if isinstance(value, str) and value.strip() and value.strip() not in self.empty_values:
            try:
                check_ascii_decimal(value)
            except NonAsciiDigitsError:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return form_to_python(self, value)

    forms.DecimalField.to_python = form_guarded  # type: ignore[method-assign]  # deliberate: installs the input guard
    _installed = True
