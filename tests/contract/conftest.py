import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections


@pytest.fixture(autouse=True)
def _keep_test_connection_open_under_raw_wsgi():
    """schemathesis and httpx call the raw WSGI handler, which closes "old" connections at request
    start/end; that would close the test's transaction on PostgreSQL. Django's own test client
    disconnects the same handler."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
