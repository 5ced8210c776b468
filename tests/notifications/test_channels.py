"""Channels: the HTTP SMS adapter against a local fake provider, e-mail with HTML, WeChat, masked logs."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notifications import services
from notifications.models import Notification
from servicehub.logging import MaskPhoneNumbersFilter
from servicehub.sms import ConsoleSMSBackend, HttpSMSBackend, PermanentSMSError, SMSError


class FakeProvider(BaseHTTPRequestHandler):
    """Answers with ``server.answer`` = (status, body) and records each request in ``server.seen``."""

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.server.seen.append({"headers": dict(self.headers), "body": json.loads(self.rfile.read(length))})
        status, body = self.server.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeProvider)
    server.seen, server.answer = [], (200, {"id": "msg-42"})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    yield server
    server.shutdown()
    server.server_close()


def backend(provider, **kw):
    return HttpSMSBackend(url=provider.url, token="tok-1", sender="SH", timeout=5, **kw)


def test_http_backend_posts_json_with_token_and_idempotency_key(provider):
    assert backend(provider).send(to="+8613812345678", text="hello", idempotency_key="k-1") == "msg-42"
    (request,) = provider.seen
    assert request["body"] == {"to": "+8613812345678", "text": "hello", "sender": "SH", "client_ref": "k-1"}
    assert request["headers"]["Authorization"] == "Bearer tok-1"
    assert request["headers"]["Idempotency-Key"] == "k-1"


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, SMSError), (503, SMSError), (429, SMSError), (400, PermanentSMSError), (401, PermanentSMSError)],
)
def test_http_backend_classifies_failures(provider, status, error):
    provider.answer = (status, {"error": "nope"})
    with pytest.raises(error) as exc:
        backend(provider).send(to="+8613812345678", text="x")
    assert str(status) in str(exc.value)
    if error is SMSError:
        assert not isinstance(exc.value, PermanentSMSError)


def test_http_backend_unreachable_is_transient():
    with pytest.raises(SMSError) as exc:
        HttpSMSBackend(url="http://127.0.0.1:9/sms", token="", timeout=1).send(to="+8613812345678", text="x")
    assert not isinstance(exc.value, PermanentSMSError)


def test_http_backend_refuses_a_non_http_url():
    with pytest.raises(PermanentSMSError):
        HttpSMSBackend(url="file:///etc/passwd")


def test_http_backend_configured_by_settings_end_to_end(provider, settings, customer):
    settings.SMS_BACKEND = "servicehub.sms.HttpSMSBackend"
    settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN = provider.url, "from-settings"
    (row,) = services.notification_enqueue(
        kind="delivered", customer=customer, context={"service_no": "SH9", "link": "http://x/"}
    )
    assert services.notification_send(notification_id=row.pk).status == "sent"
    row.refresh_from_db()
    assert row.provider_message_id == "msg-42"
    assert provider.seen[0]["headers"]["Authorization"] == "Bearer from-settings"
    assert provider.seen[0]["body"]["client_ref"] == str(row.uuid)
    # the provider is down: the row goes back to pending with the reason
    provider.answer = (502, {"error": "bad gateway"})
    (row2,) = services.notification_enqueue(
        kind="delivered", customer=customer, context={"service_no": "SH10", "link": "http://x/"}
    )
    assert services.notification_send(notification_id=row2.pk).status == "retry"
    row2.refresh_from_db()
    assert row2.status == "pending" and "502" in row2.last_error


def test_email_channel_sends_text_and_html(customer, mailoutbox):
    customer.email = "wang@example.com"
    customer.language = "en"
    (row,) = services.notification_enqueue(
        kind="repair_ready",
        customer=customer,
        channels=("email",),
        context={
            "service_no": "SH7",
            "center_name": "C",
            "center_address": "A",
            "center_phone": "",
            "link": "http://x/track/SH7/",
        },
    )
    assert services.notification_send(notification_id=row.pk).status == "sent"
    (mail,) = mailoutbox
    assert mail.subject == "Repair SH7 is ready for pickup"
    assert "SH7" in mail.body
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html" and 'href="http://x/track/SH7/"' in html
    assert mail.extra_headers["Message-ID"] == f"<{row.uuid}@servicehub>"


def test_wechat_channel_uses_the_configured_backend_and_template(db, settings):
    sent = WeChatRecorder.sent = []
    settings.WECHAT_TEMPLATE_IDS = {"delivered": "TPL-DELIVERED"}
    settings.WECHAT_BACKEND = "tests.notifications.test_channels.WeChatRecorder"
    (row,) = services.notification_enqueue(
        kind="delivered", to_wechat="oABC123", channels=("wechat",), context={"service_no": "SH8", "link": "http://x/"}
    )
    assert services.notification_send(notification_id=row.pk).status == "sent"
    assert sent[0]["openid"] == "oABC123" and sent[0]["template_id"] == "TPL-DELIVERED"
    assert "SH8" in sent[0]["data"]["remark"]["value"]
    assert Notification.objects.get(pk=row.pk).provider_message_id == "wx-1"


class WeChatRecorder:
    sent: list = []

    def send(self, **kwargs):
        WeChatRecorder.sent.append(kwargs)
        return "wx-1"


def test_console_sms_never_logs_the_full_phone(caplog):
    with caplog.at_level(logging.INFO, logger="servicehub.sms"):
        ConsoleSMSBackend().send(to="+8613812345678", text="call 13900001111 now", idempotency_key="k")
    record = caplog.records[-1]
    MaskPhoneNumbersFilter().filter(record)  # what the configured handler does
    assert "13812345678" not in record.getMessage()
    assert "13900001111" not in record.getMessage()
    assert "138****5678" in record.getMessage()


def test_send_task_takes_an_id_not_an_object():
    import inspect

    from notifications.tasks import notification_send_task

    assert list(inspect.signature(notification_send_task.run).parameters) == ["notification_id"]
