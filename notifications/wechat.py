"""WeChat template messages behind one interface (``WECHAT_BACKEND``).

A real backend posts to the Official Account API
(``/cgi-bin/message/template/send``) with ``touser`` (the openid), the
``template_id`` configured per notification kind in ``WECHAT_TEMPLATE_IDS`` and
``data``; the console backend (default) logs the message.
"""

from __future__ import annotations

import logging

logger = logging.getLogger("notifications.wechat")


class BaseWeChatBackend:
    def send(self, *, openid: str, template_id: str, data: dict, url: str = "", idempotency_key: str = "") -> str:
        """Send one template message; return the provider's message id. Raise ``SendError`` on failure."""
        raise NotImplementedError


class ConsoleWeChatBackend(BaseWeChatBackend):
    def send(self, *, openid: str, template_id: str, data: dict, url: str = "", idempotency_key: str = "") -> str:
        logger.info("WeChat template %s to %s: %s %s", template_id or "-", openid[:6] + "…", data, url)
        return f"console:{idempotency_key}" if idempotency_key else "console"


def get_wechat_backend() -> BaseWeChatBackend:
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(settings.WECHAT_BACKEND)()
