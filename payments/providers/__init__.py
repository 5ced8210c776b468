"""Payment providers behind one interface (``base.Provider``), chosen by name.

``registry.provider_for_method("wechat_pay")`` gives the provider configured for a method in the
``PAYMENT_PROVIDERS`` setting (``sandbox`` by default); ``registry.provider_get(name)`` the one a
notification URL names. Cash and terminal cards need no provider: they are taken at the ``counter``.
"""
