"""Loaner settings with their defaults; override any key in ``settings.LOANERS``.

Per-province deposits and late fees are data (``DepositRule``); these are the
fallbacks used when no rule row exists, and the loan-length knobs.
"""

from decimal import Decimal

from django.conf import settings

DEFAULTS = {
    # due_at = ticket.promised_at (or now + DEFAULT_REPAIR_DAYS) + GRACE_DAYS
    "DEFAULT_REPAIR_DAYS": 3,
    "GRACE_DAYS": 1,
    # Used when no DepositRule row matches (neither the province's nor the default one).
    "DEFAULT_DEPOSITS": {"flagship": Decimal("2000.00"), "standard": Decimal("800.00")},
    "DEFAULT_LATE_FEES": {"flagship": Decimal("50.00"), "standard": Decimal("20.00")},
    # How many nearby centers a no_loaner_available answer lists.
    "NEARBY_CENTERS": 5,
}


def loaner_setting(name: str):
    return getattr(settings, "LOANERS", {}).get(name, DEFAULTS[name])
