"""The strict Content-Security-Policy in a real browser: home, find-a-center, book and track load
with no CSP violation, and their JavaScript (htmx, the location button, the slot picker) works."""

import datetime as dt
import re

import pytest

from booking import services as booking_services
from tests.factories.booking import booking_input, local, open_center, tomorrow
from tests.factories.warranty import DeviceModelFactory

from .conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


@pytest.fixture
def watched(page):
    """The page at a customer's 360 px width, recording CSP violations (console and DOM events)."""
    page.set_viewport_size({"width": 360, "height": 780})
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(WATCH)
    page.csp_console = console
    return page


def _violations(page):
    return page.evaluate("window.__cspViolations") + page.csp_console


def _strict(response):
    policy = response.headers["content-security-policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert script_src.strip() == "script-src 'self'"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    return policy


def test_home_and_centers_run_under_the_strict_policy(watched, live_server):
    page = watched
    open_center(name="近的服务中心", lat=31.2305, lng=121.4738)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 31.2304, "longitude": 121.4737})

    _strict(page.goto("/"))
    page.wait_for_load_state("networkidle")
    assert _violations(page) == []

    _strict(page.goto("/centers/"))
    button = page.locator("#use-location")
    # find.js (a static file, no inline script) un-hides the button and runs the search.
    assert button.is_visible()
    button.click()
    page.locator("#center-results .card").first.wait_for()
    assert "near=31.2304" in page.url  # find.js sent the position as near=LAT,LNG
    assert "近的服务中心" in page.locator("#center-results").inner_text()
    assert _violations(page) == []


def test_book_page_slot_picker_works_without_csp_violations(watched, live_server):
    page = watched
    center = open_center()
    DeviceModelFactory(code="PHN-1")
    _strict(page.goto(f"/book/?center={center.code}"))
    page.locator("#id_name").fill("王小明")
    second_day = tomorrow() + dt.timedelta(days=1)
    page.locator(f'.days a[href*="date={second_day.isoformat()}"]').click()
    page.wait_for_url(re.compile(f"date={second_day.isoformat()}"))
    # htmx swapped only the slot picker (the typed name is still there): its JS runs under the policy.
    assert page.locator("#id_name").input_value() == "王小明"
    assert page.locator(f'input[name=start][value="{local(second_day, 9).isoformat()}"]').count() == 1
    assert _violations(page) == []
    shot(page, "csp-book")


def test_track_pages_load_without_csp_violations(watched, live_server):
    page = watched
    center = open_center()
    model = DeviceModelFactory(code="PHN-1")
    appointment = booking_services.appointment_book(
        center=center, start=local(tomorrow(), 10), **booking_input(model=model)
    )
    ticket = appointment.ticket
    _strict(page.goto("/track/"))
    page.locator("#id_service_no").fill(ticket.service_no)
    page.locator("#id_phone_last4").fill(appointment.customer.phone[-4:])
    page.locator("form.track-form button[type=submit]").click()
    page.wait_for_url(re.compile(f"/track/{ticket.service_no}/"))
    assert ticket.service_no in page.locator("main").inner_text()
    assert _violations(page) == []


def test_an_injected_inline_script_is_blocked(watched, live_server):
    """Control: the harness does see a violation when a page tries to run inline script."""
    page = watched
    page.goto("/")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                             document.body.appendChild(s); }""")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in _violations(page))
