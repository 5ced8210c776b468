"""SMS captured in memory for the tests (``settings.SMS_BACKEND = "tests.sms.MemorySMSBackend"``)."""

SENT_SMS: list[dict] = []


class MemorySMSBackend:
    """Records every call; ``fail_with`` makes the next calls raise."""

    fail_with: Exception | None = None

    def send(self, *, to, text, idempotency_key=""):
        if MemorySMSBackend.fail_with is not None:
            raise MemorySMSBackend.fail_with
        SENT_SMS.append({"to": to, "text": text, "key": idempotency_key})
        return f"mem-{len(SENT_SMS)}"
