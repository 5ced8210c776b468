"""One interface for every channel: ``channel_for(name).send(notification) -> provider message id``.

A channel raises ``SendError`` (retried with backoff) or ``PermanentSendError``
(recorded as failed at once). Anything else a backend raises counts as a
transient ``SendError``.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from servicehub.sms import PermanentSMSError, SMSError, get_sms_backend

from .choices import NotificationChannel
from .errors import PermanentSendError, SendError
from .wechat import get_wechat_backend


class BaseChannel:
    name = ""

    def send(self, notification) -> str:
        raise NotImplementedError


class SmsChannel(BaseChannel):
    name = NotificationChannel.SMS

    def send(self, notification) -> str:
        try:
            return get_sms_backend().send(
                to=notification.recipient, text=notification.body, idempotency_key=str(notification.uuid)
            )
        except PermanentSMSError as exc:
            raise PermanentSendError(str(exc)) from exc
        except SMSError as exc:
            raise SendError(str(exc)) from exc


class EmailChannel(BaseChannel):
    name = NotificationChannel.EMAIL

    def send(self, notification) -> str:
        message_id = f"<{notification.uuid}@servicehub>"
        message = EmailMultiAlternatives(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.recipient],
            headers={"Message-ID": message_id},
        )
        if notification.html_body:
            message.attach_alternative(notification.html_body, "text/html")
        try:
            message.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentSendError(f"recipient refused: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"e-mail not sent: {exc}") from exc
        return message_id


class WeChatChannel(BaseChannel):
    name = NotificationChannel.WECHAT

    def send(self, notification) -> str:
        template_id = settings.WECHAT_TEMPLATE_IDS.get(notification.kind, "")
        data = {"first": {"value": notification.subject}, "remark": {"value": notification.body}}
        return get_wechat_backend().send(
            openid=notification.recipient,
            template_id=template_id,
            data=data,
            url=str(notification.context.get("link", "")),
            idempotency_key=str(notification.uuid),
        )


_CHANNELS = {c.name: c for c in (SmsChannel(), EmailChannel(), WeChatChannel())}


def channel_for(name: str) -> BaseChannel:
    return _CHANNELS[name]
