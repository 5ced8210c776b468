"""A logging filter that masks mobile numbers wherever they appear in a record."""

import logging
import re

# Chinese mobiles (11 digits starting with 1) and +86 forms.
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_phones_in(text: str) -> str:
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


class MaskPhoneNumbersFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        masked = mask_phones_in(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
