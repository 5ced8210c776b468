"""Every public page at 320, 360 and 414 px: nothing wider than the screen, buttons and links in
forms at least 44 px tall and wide, inputs at 16 px or more (iOS zooms into smaller ones)."""

import datetime as dt

import pytest
from django.utils import timezone

from booking import services as booking_services
from centers.choices import CenterKind
from repairs.models import RepairTicket
from repairs.services import ticket_check_in, ticket_transition
from servicehub.actors import actor_for_user
from tests.e2e.conftest import docs_img_dir
from tests.factories.booking import booking_input, local, open_center, tomorrow
from tests.factories.centers import ServiceCenterFactory, region_chain
from tests.factories.repairs import catalog, staff
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (320, 360, 414)
DOCS_IMG = docs_img_dir()  # docs/img with DOCS_SCREENSHOTS=1 (tests/e2e/conftest.py)

# What the page measures: [overflowing?, small tap targets, small inputs] with a description of each.
MEASURE = """() => {
  const visible = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '')
    + ' "' + (el.innerText || el.value || '').trim().slice(0, 30) + '"';
  const small = [];
  for (const el of document.querySelectorAll('form button, form a, form input[type=submit], form .btn')) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.height < 44 || r.width < 44) small.push(name(el) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
  }
  const tiny = [];
  const fields = 'input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea';
  for (const el of document.querySelectorAll(fields)) {
    if (!visible(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 16) tiny.push(name(el) + ' ' + size + 'px');
  }
  const wide = [];
  const vw = window.innerWidth;
  if (document.documentElement.scrollWidth > vw) {
    for (const el of document.querySelectorAll('main *, header *, nav *, footer *')) {
      const r = el.getBoundingClientRect();
      if (r.right > vw + 1 && visible(el) && !el.closest('.days, .site-nav')) {
        wide.push(name(el) + ' right=' + Math.round(r.right));
      }
    }
  }
  return {scroll: document.documentElement.scrollWidth, vw, small, tiny, wide: wide.slice(0, 5)};
}"""


@pytest.fixture
def site(db):
    """One of everything a customer can open: centers, a hub, a priced model, a quoted repair, a booking,
    a mail-in with both legs, a delivered repair (survey)."""
    province, city, county = region_chain()
    center = open_center(name="黄浦授权服务中心", region=county, city=city, province=province)
    gd, sz, ns = region_chain("440000000000", "440300000000", "440305000000")
    ServiceCenterFactory(
        code="HUB-GD",
        name="广东寄修中心",
        kind=CenterKind.MAIL_IN_HUB,
        region=ns,
        city=sz,
        province=gd,
        services=["phone", "mail_in"],
    )
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="P60", name="Phone 60")
    catalog(model)
    old = DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=730))
    desk, eng = (actor_for_user(staff(center, "front_desk")), actor_for_user(staff(center, "engineer", certified=True)))

    quoted = ticket_check_in(
        actor=desk,
        center=center,
        customer={"name": "王小明", "phone": "13812345678"},
        device={"imei": old.imei, "model": model.code},
        fault_category="screen",
    )
    ticket_transition(ticket_id=quoted.pk, action="start_diagnosis", actor=eng)
    ticket_transition(
        ticket_id=quoted.pk,
        action="send_quote",
        actor=eng,
        lines=[{"repair": "screen"}, {"repair": "mainboard", "grade": "refurbished"}],
    )

    appointment = booking_services.appointment_book(
        center=center, start=local(tomorrow(), 10), **booking_input(model=model)
    )
    mail_in = booking_services.mail_in_request_create(
        name="张三",
        phone="13912340000",
        issue="电池",
        pickup_address="广东省深圳市南山区科技园路1号",
        imei=DeviceFactory(model=model).imei,
        fault_category="battery",
    )
    delivered = ticket_check_in(
        actor=desk,
        center=center,
        customer={"name": "赵六", "phone": "13712345678"},
        device={"imei": DeviceFactory(model=model).imei, "model": model.code},
        fault_category="other",
    )
    RepairTicket.objects.filter(pk=delivered.pk).update(status="delivered")
    from outreach.models import Event

    starts = timezone.now() + dt.timedelta(days=3)
    event = Event.objects.create(
        center=center,
        kind="customer_class",
        title_zh="长者智能手机课堂：微信视频通话与防范电信诈骗",
        title_en="Phone class for seniors: WeChat video calls and telephone scams",
        venue_name="曹杨新村街道社区文化活动中心",
        venue_address="普陀区兰溪路 100 号",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        capacity=20,
        sign_language=True,
    )
    return {
        "event": event,
        "center": center,
        "model": model,
        "old": old,
        "quoted": RepairTicket.objects.get(pk=quoted.pk),
        "appointment": appointment,
        "mail_in": mail_in,
        "delivered": delivered,
    }


def _paths(site):
    q, a, m, d = site["quoted"], site["appointment"], site["mail_in"], site["delivered"]
    return [
        "/",
        "/centers/",
        "/centers/?q=上海市黄浦区",
        f"/centers/{site['center'].code}/",
        "/centers/verify/",
        "/centers/verify/?phone=021-12345678",
        "/book/",
        f"/book/?center={site['center'].code}",
        f"/book/{a.ticket.service_no}/done/?phone_last4={a.customer.phone[-4:]}",
        f"/appointments/{a.ticket.service_no}/?phone_last4={a.customer.phone[-4:]}",
        "/mail-in/",
        f"/mail-in/{m.ticket.service_no}/done/?phone_last4=0000",
        "/on-site/",
        "/warranty/",
        f"/warranty/?imei={site['old'].imei}",
        "/warranty/?imei=123",
        "/prices/",
        f"/prices/{site['model'].code}/",
        "/callback/",
        "/track/",
        f"/track/{q.service_no}/?phone_last4=5678",
        f"/track/{m.ticket.service_no}/?phone_last4=0000",
        f"/track/{a.ticket.service_no}/?phone_last4={a.customer.phone[-4:]}",
        f"/survey/{d.service_no}/?phone_last4=5678",
        "/events/",
        f"/events/{site['event'].pk}/",
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_public_page_fits_phones(browser, live_server, site, zh_translations, language):
    problems = {}
    for width in WIDTHS:
        context = browser.new_context(
            viewport={"width": width, "height": 740}, device_scale_factor=1, base_url=live_server.url
        )
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page = context.new_page()
        for path in _paths(site):
            response = page.goto(path)
            assert response.status == 200, (path, response.status)
            found = page.evaluate(MEASURE)
            if found["scroll"] > found["vw"] or found["small"] or found["tiny"]:
                problems[f"{width} {path}"] = found
            if width == 360 and language == "zh-hans" and path.startswith(f"/track/{site['quoted'].service_no}/"):
                page.locator("table.quote").scroll_into_view_if_needed()
                page.screenshot(path=str(DOCS_IMG / "web-tracking-quote.png"))
        # A form with its errors shown (the longest state of a form page).
        page.goto("/mail-in/")
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_selector("#form-errors")
        found = page.evaluate(MEASURE)
        if found["scroll"] > found["vw"] or found["small"] or found["tiny"]:
            problems[f"{width} /mail-in/ (errors)"] = found
        context.close()
    import json

    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)
