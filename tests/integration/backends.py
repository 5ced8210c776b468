"""An SMS "provider" for the integration tests: appends every call to a JSON-lines file.

Like real providers that take a client message reference, it accepts a message
once per ``idempotency_key``: ``delivered()`` counts distinct keys, ``calls()``
counts every request. Environment (set on the worker process):

- ``SMS_RECORD_FILE``: the file;
- ``SMS_RECORD_FAIL_FIRST=1``: the first call per key fails with a transient ``SMSError`` (provider 503);
- ``SMS_RECORD_PAUSE_BEFORE`` / ``SMS_RECORD_PAUSE_AFTER``: seconds to sleep before /
  after the provider accepts the message (to SIGKILL a worker mid-send); the
  worker writes ``<file>.paused`` when it starts sleeping.
"""

import fcntl
import json
import os
import time
from pathlib import Path


def _pause(kind: str) -> None:
    seconds = float(os.environ.get(f"SMS_RECORD_PAUSE_{kind}", "0") or 0)
    if seconds:
        Path(os.environ["SMS_RECORD_FILE"] + ".paused").write_text(f"{kind} {os.getpid()}")
        time.sleep(seconds)


class FileRecordingSMSBackend:
    def send(self, *, to: str, text: str, idempotency_key: str = "") -> str:
        if os.environ.get("SMS_RECORD_FAIL_FIRST") == "1":
            failed = Path(os.environ["SMS_RECORD_FILE"] + f".failed-{idempotency_key}")
            if not failed.exists():
                failed.write_text("503")
                from servicehub.sms import SMSError

                raise SMSError("provider answered 503")
        _pause("BEFORE")
        line = json.dumps({"key": idempotency_key, "to": to, "text": text, "pid": os.getpid()}) + "\n"
        with open(os.environ["SMS_RECORD_FILE"], "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
            fcntl.flock(handle, fcntl.LOCK_UN)
        _pause("AFTER")
        return f"file:{idempotency_key}"


def calls(path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def delivered(path) -> dict[str, dict]:
    """The messages the provider accepted: the first call per idempotency key."""
    seen: dict[str, dict] = {}
    for call in calls(path):
        seen.setdefault(call["key"], call)
    return seen
