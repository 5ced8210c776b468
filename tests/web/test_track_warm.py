"""The tracking page is warmed when its link is sent (web.track_warm): an SMS wave's first views are warm ones.

Each test makes the change the way the code makes it, runs the after-commit callbacks (the dispatch's warm), and
counts the queries of the customer's first view: 1 (the lookup, every part from the cache) when warmed, more when
not -- a transition nobody is told of, and a page asked in another language than the message's, are the controls.
"""

import re

import pytest
from django.core.cache import cache

from repairs.models import Customer
from tests.factories.repairs import run, walk_in
from tests.web.test_track_cache import SCREEN, _device, _queries, network

pytestmark = pytest.mark.django_db


@pytest.fixture
def net(db):
    return network()


def _view(client, t, language):
    r = client.get(f"/track/{t.service_no}/", {"phone_last4": "5678"}, HTTP_ACCEPT_LANGUAGE=language)
    assert r.status_code == 200
    return r.content.decode()


def _first_view_queries(client, t, language):
    return _queries(lambda: _view(client, t, language))


def test_the_page_a_message_links_to_is_warm_at_its_first_view(client, net, django_capture_on_commit_callbacks):
    t = run(walk_in(net["center"], net["desk"], device=_device(net["model"])), ("start_diagnosis", net["eng"]))
    with django_capture_on_commit_callbacks(execute=True):
        run(t, ("send_quote", net["eng"], SCREEN))  # awaiting approval: "your quote is ready" is sent
    assert _first_view_queries(client, t, "zh-hans") == 1  # the customer's language (zh-hans, the default)
    assert _first_view_queries(client, t, "en") > 1  # the control: nobody warmed the English page


def test_a_change_nobody_is_told_of_warms_nothing(client, net, django_capture_on_commit_callbacks):
    t = walk_in(net["center"], net["desk"], device=_device(net["model"]))
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        run(t, ("start_diagnosis", net["eng"]))  # diagnosing: no message, no link
    assert _first_view_queries(client, t, "zh-hans") > 1


def test_the_warm_page_is_the_page_the_customer_would_have_built(client, net, django_capture_on_commit_callbacks):
    t = run(walk_in(net["center"], net["desk"], device=_device(net["model"])), ("start_diagnosis", net["eng"]))
    Customer.objects.filter(pk=t.customer_id).update(language="en")
    with django_capture_on_commit_callbacks(execute=True):
        run(t, ("send_quote", net["eng"], SCREEN))
    assert _first_view_queries(client, t, "en") == 1  # warmed in the customer's language (en now)
    warm = _view(client, t, "en")
    cache.clear()
    built = _view(client, t, "en")
    csrf = re.compile(r"\b[A-Za-z0-9]{64}\b")  # the CSRF tokens (form fields, htmx headers): new per response
    assert csrf.sub("", warm) == csrf.sub("", built)
    assert "Quote (version 1)" in warm and "Send me a code" in warm


def test_a_warm_that_fails_stops_neither_the_change_nor_the_message(
    client, net, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from notifications.models import Notification
    from repairs import views

    def broken(**kwargs):
        raise RuntimeError("cache down")

    monkeypatch.setattr(views, "track_page_warm", broken)
    t = run(walk_in(net["center"], net["desk"], device=_device(net["model"])), ("start_diagnosis", net["eng"]))
    with django_capture_on_commit_callbacks(execute=True):
        t = run(t, ("send_quote", net["eng"], SCREEN))
    assert t.status == "awaiting_approval"
    assert Notification.objects.filter(ticket=t, kind="quote_ready").exists()
    assert "cache down" in caplog.text
    assert "Send me a code" in _view(client, t, "en")  # the page builds its parts itself
