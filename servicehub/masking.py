"""Masking of personal data shown to people who do not own it."""

import re

_DIGITS = re.compile(r"\d")


def mask_phone(phone: str | None) -> str:
    """138****5678: keep the first 3 and last 4 digits of a mobile number."""
    if not phone:
        return ""
    digits = "".join(_DIGITS.findall(str(phone)))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_name(name: str | None) -> str:
    """王*明 / 李* / J*** S***: keep the first and (for 3+ CJK chars) last character."""
    if not name:
        return ""
    name = str(name).strip()
    if " " in name:
        return " ".join(mask_name(part) for part in name.split())
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_email(email: str | None) -> str:
    """l***@example.com: keep the first character of the local part and the domain."""
    if not email:
        return ""
    local, at, domain = str(email).partition("@")
    if not at:
        return local[:4] + "…"
    return f"{local[:1]}***@{domain}"


def contact_masked_for(actor) -> bool:
    """Whether ``actor`` sees a customer's name and phone masked: partner keys do (they handle the
    device, not the person); staff and the system see them in full."""
    return actor.user is None and not actor.is_system
