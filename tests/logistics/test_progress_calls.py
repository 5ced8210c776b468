"""Progress calls to mail-in customers: the call list per the center's stages, logging, the page's query count."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from logistics import selectors, services
from logistics.models import ProgressCall
from repairs.models import RepairTicket, TicketEvent
from servicehub.actors import actor_for_user
from servicehub.errors import DomainError
from tests.factories.centers import ServiceCenterFactory
from tests.factories.partners import make_ticket
from tests.factories.repairs import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub():
    center = ServiceCenterFactory(code="HUB-SH", kind="mail_in_hub")
    users = {
        "desk": staff(center, "front_desk", username="calldesk"),
        "manager": staff(center, "manager", username="callboss"),
        "eng": staff(center, "engineer", username="calleng"),
    }
    return center, users, {k: actor_for_user(u) for k, u in users.items()}


def mail_in(center, status="received", **kw):
    return make_ticket(center=center, status=status, channel="mail_in", **kw)


def test_list_follows_the_centers_stages_and_drops_who_was_reached(hub):
    center, _users, actors = hub
    received = mail_in(center, "received")
    repairing = mail_in(center, "repairing")
    make_ticket(center=center, status="received", channel="walk_in")  # not mail-in
    other = mail_in(ServiceCenterFactory(code="HUB-GD", kind="mail_in_hub"), "received")  # not my center
    assert [t.pk for t in selectors.progress_call_list(actor=actors["desk"])] == [received.pk]  # default stages

    services.progress_call_plan_set(center_id=center.pk, stages=["repairing", "received"], actor=actors["manager"])
    assert {t.pk for t in selectors.progress_call_list(actor=actors["desk"])} == {received.pk, repairing.pk}

    services.progress_call_log(ticket_id=received.pk, actor=actors["desk"], outcome="no_answer")
    rows = {t.pk: t for t in selectors.progress_call_list(actor=actors["desk"])}
    assert rows[received.pk].last_outcome == "no_answer"  # still to call
    services.progress_call_log(ticket_id=received.pk, actor=actors["desk"], outcome="reached", note="知道了")
    assert [t.pk for t in selectors.progress_call_list(actor=actors["desk"])] == [repairing.pk]
    note = TicketEvent.objects.filter(ticket=received, action="progress_call").order_by("-pk").first()
    assert note.note == "Reached. 知道了" and note.from_status == note.to_status == "received"

    # The next stage puts the customer back on the list.
    RepairTicket.objects.filter(pk=received.pk).update(status="repairing")
    assert {t.pk for t in selectors.progress_call_list(actor=actors["desk"])} == {received.pk, repairing.pk}
    assert other.pk not in {t.pk for t in selectors.progress_call_list(actor=actors["manager"])}


def test_refusals(hub):
    center, _users, actors = hub
    t = mail_in(center)
    with pytest.raises(DomainError) as err:
        services.progress_call_log(ticket_id=t.pk, actor=actors["desk"], outcome="maybe")
    assert (err.value.code, err.value.field) == ("validation_error", "outcome")
    with pytest.raises(DomainError) as err:
        services.progress_call_log(ticket_id=t.pk, actor=actors["eng"], outcome="reached")
    assert err.value.code == "permission_denied"
    walk = make_ticket(center=center, status="received", channel="walk_in")
    with pytest.raises(DomainError) as err:
        services.progress_call_log(ticket_id=walk.pk, actor=actors["desk"], outcome="reached")
    assert err.value.code == "invalid_state"
    services.progress_call_log(ticket_id=t.pk, actor=actors["desk"], outcome="reached")
    with pytest.raises(DomainError) as err:
        services.progress_call_log(ticket_id=t.pk, actor=actors["desk"], outcome="reached")
    assert (err.value.code, err.value.status) == ("already_called", 409)
    assert ProgressCall.objects.count() == 1
    with pytest.raises(DomainError) as err:
        services.progress_call_plan_set(center_id=center.pk, stages=["received"], actor=actors["desk"])
    assert err.value.code == "permission_denied"
    with pytest.raises(DomainError) as err:
        services.progress_call_plan_set(center_id=center.pk, stages=["flying"], actor=actors["manager"])
    assert err.value.code == "validation_error"


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_page_shows_tel_links_in_fixed_queries_and_logs_a_call(hub, django_assert_max_num_queries):
    center, users, _actors = hub
    first = mail_in(center, phone="+8613800138000")
    c = Client()
    c.force_login(users["desk"])
    url = reverse("admin:logistics_progresscall_changelist")
    one = _count(lambda: c.get(url))
    for _i in range(4):
        mail_in(center)
    assert _count(lambda: c.get(url)) == one
    with django_assert_max_num_queries(10):
        r = c.get(url)
    assert r.status_code == 200 and len(r.context["rows"]) == 5
    assert 'href="tel:+8613800138000"' in r.content.decode()
    r = c.post(reverse("admin:logistics_progresscall_log", args=[first.pk]), {"outcome": "reached", "note": "ok"})
    assert r.status_code == 302
    assert ProgressCall.objects.get().ticket_id == first.pk
    engineer = Client()
    engineer.force_login(users["eng"])
    assert engineer.get(url).status_code == 403


def test_manager_chooses_the_stages_in_the_admin(hub):
    from logistics.models import ProgressCallPlan

    center, users, _actors = hub
    c = Client()
    c.force_login(users["manager"])
    r = c.post(
        reverse("admin:logistics_progresscallplan_add"),
        {"center": center.pk, "stages": ["ready", "received"]},
    )
    assert r.status_code == 302, r.content.decode()[:500]
    assert ProgressCallPlan.objects.get(center=center).stages == ["received", "ready"]
    desk = Client()
    desk.force_login(users["desk"])
    assert desk.get(reverse("admin:logistics_progresscallplan_add")).status_code == 403
