"""Providers by name, and which one serves each QR method (setting ``PAYMENT_PROVIDERS``).

``PAYMENT_PROVIDERS = {"wechat_pay": "sandbox", "alipay": "sandbox"}`` (the default) sends both QR
methods to the sandbox; production names ``"wechat_pay"``/``"alipay"`` and gives their keys in
``PAYMENT_PROVIDER_OPTIONS`` (docs/payments.md). Another provider registers itself with
``provider_register(name, factory)`` from its app's ``ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import Provider

QR_METHODS = ("wechat_pay", "alipay")
DEFAULT_PROVIDERS = {"wechat_pay": "sandbox", "alipay": "sandbox"}

Factory = Callable[[dict[str, Any]], Provider]
_factories: dict[str, Factory] = {}


def provider_register(name: str, factory: Factory) -> None:
    _factories[name] = factory
    provider_get.cache_clear()


def _builtin() -> None:
    if _factories:
        return
    from .alipay import AlipayProvider
    from .sandbox import SandboxProvider
    from .wechat_pay import WechatPayProvider

    _factories.update({"sandbox": SandboxProvider, "wechat_pay": WechatPayProvider, "alipay": AlipayProvider})


def provider_names() -> list[str]:
    _builtin()
    return sorted(_factories)


@cache
def provider_get(name: str) -> Provider:
    """The provider called ``name``, built once with its ``PAYMENT_PROVIDER_OPTIONS``; KeyError if unknown."""
    _builtin()
    factory = _factories[name]
    options = getattr(settings, "PAYMENT_PROVIDER_OPTIONS", {}).get(name, {})
    return factory(options)


def provider_name_for_method(method: str) -> str:
    configured = {**DEFAULT_PROVIDERS, **getattr(settings, "PAYMENT_PROVIDERS", {})}
    if method not in configured:
        raise ImproperlyConfigured(f"No payment provider for method {method!r}")
    return configured[method]


def provider_for_method(method: str) -> Provider:
    return provider_get(provider_name_for_method(method))
