import pytest


@pytest.fixture
def client(client):
    """The dashboards' and the board's texts are asserted in English (the default language is zh-hans)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
