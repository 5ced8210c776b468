"""No full phone number and (outside DEBUG) no signed-link token in any log: gunicorn, runserver, console backends."""

import datetime as dt
import io
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from gunicorn.config import Config

from servicehub.gunicorn_logging import MaskingLogger
from servicehub.logging import MaskPhoneNumbersFilter, redact_tokens_in
from servicehub.mail import RedactingConsoleEmailBackend
from servicehub.sms import ConsoleSMSBackend

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "SH2612ABCDEF:41:1vX2Yz:3kq-Secret_Signature"
LINK = f"https://service.example/track/SH2612ABCDEF/quote/?t={TOKEN}"


def _gunicorn_access_line(uri: str) -> str:
    cfg = Config()
    cfg.set("accesslog", "-")
    log = MaskingLogger(cfg)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    log.access_log.handlers = [handler]
    path, _, query = uri.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": uri,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://service.example{uri}",
    }
    resp = SimpleNamespace(status="200 OK", sent=512, headers=[("Content-Type", "text/html")])
    req = SimpleNamespace(headers=[("HOST", "service.example")])
    log.access(resp, req, environ, dt.timedelta(milliseconds=12))
    return stream.getvalue()


def test_gunicorn_access_log_masks_phones_in_admin_search(settings):
    settings.DEBUG = False
    line = _gunicorn_access_line("/admin/repairs/customer/?q=13800138000")
    assert '"GET /admin/repairs/customer/?q=138****8000 HTTP/1.1" 200 512' in line
    assert "13800138000" not in line and line.count("138****8000") == 2  # request line and referer


def test_gunicorn_access_log_redacts_signed_links_outside_debug(settings):
    settings.DEBUG = False
    line = _gunicorn_access_line(f"/track/SH2612ABCDEF/quote/?t={TOKEN}")
    assert "/track/SH2612ABCDEF/quote/?t=[redacted] HTTP/1.1" in line and TOKEN not in line


def test_gunicorn_error_log_is_masked_too():
    cfg = Config()
    log = MaskingLogger(cfg)
    stream = io.StringIO()
    log.error_log.handlers = [logging.StreamHandler(stream)]
    log.error("Error handling request %s", "/admin/?q=13912345678")
    assert "139****5678" in stream.getvalue() and "13912345678" not in stream.getvalue()


def test_gunicorn_conf_uses_the_masking_logger():
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["logger_class"] == "servicehub.gunicorn_logging.MaskingLogger"
    procfile = (ROOT / "Procfile").read_text()
    assert "gunicorn servicehub.wsgi --config gunicorn.conf.py" in procfile


def test_runserver_access_lines_are_masked(settings, caplog):
    settings.DEBUG = False
    from django.conf import settings as live

    assert live.LOGGING["loggers"]["django.server"]["handlers"] == ["console"]
    assert live.LOGGING["handlers"]["console"]["filters"] == ["mask_phones"]
    # The record as django.core.servers.basehttp.WSGIRequestHandler.log_message makes it.
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /admin/?q=13800138000&t=abc HTTP/1.1", "200", "1234"),
        None,
    )
    assert MaskPhoneNumbersFilter().filter(record) is True
    assert record.getMessage() == '"GET /admin/?q=138****8000&t=[redacted] HTTP/1.1" 200 1234'


def test_console_sms_redacts_tokens_unless_debug(settings, caplog):
    settings.DEBUG = False
    with caplog.at_level(logging.INFO, logger="servicehub.sms"):
        ConsoleSMSBackend().send(to="+8613800138000", text=f"Approve your quote: {LINK}")
    message = caplog.records[-1].getMessage()
    assert TOKEN not in message and "?t=[redacted]" in message and "13800138000" not in message

    settings.DEBUG = True
    with caplog.at_level(logging.INFO, logger="servicehub.sms"):
        ConsoleSMSBackend().send(to="+8613800138000", text=f"Approve your quote: {LINK}")
    assert LINK in caplog.records[-1].getMessage()


def _email():
    msg = EmailMultiAlternatives("Quote 13800138000", f"Approve: {LINK}\n" + "长" * 1200, to=["a@example.com"])
    msg.attach_alternative(f'<a href="{LINK}&amp;lang=en">Approve</a>', "text/html")
    return msg


def test_console_email_redacts_tokens_unless_debug(settings):
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"  # pytest-django's
    settings.DEBUG = False
    out = io.StringIO()
    RedactingConsoleEmailBackend(stream=out).send_messages([_email()])
    text = out.getvalue()
    assert "Secret_Signature" not in text and "3kq" not in text
    assert "13800138000" not in text
    settings.DEBUG = True
    out = io.StringIO()
    msg = EmailMultiAlternatives("Quote", f"Approve: {LINK}", to=["a@example.com"])
    RedactingConsoleEmailBackend(stream=out).send_messages([msg])
    assert LINK in out.getvalue()


def test_console_email_leaves_the_sent_message_unchanged(settings):
    settings.DEBUG = False
    msg = _email()
    RedactingConsoleEmailBackend(stream=io.StringIO()).send_messages([msg])
    assert LINK in msg.body and LINK in msg.alternatives[0][0]
    assert mail.outbox == []


def test_default_email_url_picks_the_redacting_console_backend():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_URL", "PYTEST_XDIST_WORKER")}
    env.update(DEBUG="1", DJANGO_SETTINGS_MODULE="servicehub.settings")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.EMAIL_BACKEND)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "servicehub.mail.RedactingConsoleEmailBackend"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("?t=abc", "?t=[redacted]"),
        ("&token=x:y&z=1", "&token=[redacted]&z=1"),
        ('href="/q/?t=abc"', 'href="/q/?t=[redacted]"'),
        ("&amp;sig=zz", "&amp;sig=[redacted]"),
        ("?tab=1&st=2", "?tab=1&st=2"),
    ],
)
def test_token_redaction(text, expected):
    assert redact_tokens_in(text) == expected
