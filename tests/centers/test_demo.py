"""Demo network seed (idempotent, deterministic) and the load_regions / coverage commands."""

import io
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Max

from centers import demo
from centers.choices import CenterKind
from centers.models import (
    Certification,
    OpeningException,
    OpeningHours,
    Region,
    ServiceCenter,
    ServiceDay,
    StaffMembership,
    StaffShift,
)

pytestmark = pytest.mark.django_db


def snapshot():
    User = get_user_model()
    return {
        "centers": list(ServiceCenter.objects.order_by("code").values_list("code", "lat", "lng", "hub__code", "phone")),
        "updated": ServiceCenter.objects.aggregate(m=Max("updated_at"))["m"],
        "hours": OpeningHours.objects.count(),
        "exceptions": OpeningException.objects.count(),
        "service_days": ServiceDay.objects.count(),
        "users": list(User.objects.order_by("username").values_list("username", "password")),
        "memberships": StaffMembership.objects.count(),
        "certifications": Certification.objects.count(),
        "regions": Region.objects.count(),
    }


def test_seed_builds_the_demo_network_and_a_second_run_changes_nothing():
    options = {"centers": 40, "collection_points": 120, "seed": 7}
    out = io.StringIO()
    demo.seed(out=out, options=options)
    first = snapshot()

    counts = Counter(ServiceCenter.objects.values_list("kind", flat=True))
    assert counts[CenterKind.SERVICE_CENTER] + counts[CenterKind.FLAGSHIP] == 40
    assert counts[CenterKind.COLLECTION_POINT] == 120
    assert counts[CenterKind.MAIL_IN_HUB] == 31  # one per mainland province
    assert counts[CenterKind.EXPERIENCE_STORE] == 2
    sh = ServiceCenter.objects.select_related("province", "region").get(code="SC-SH-001")
    assert (sh.province.name, sh.region.name, sh.kind) == ("上海市", "黄浦区", CenterKind.SERVICE_CENTER)
    # every collection point forwards to a repairing center of its own province
    for cp in ServiceCenter.objects.filter(kind=CenterKind.COLLECTION_POINT).select_related("hub"):
        assert cp.hub.province_id == cp.province_id
        assert cp.hub.kind in (CenterKind.SERVICE_CENTER, CenterKind.FLAGSHIP, CenterKind.MAIL_IN_HUB)
    # sites sit near their county's centroid
    for c in ServiceCenter.objects.select_related("region")[:50]:
        assert abs(c.lat - c.region.lat) <= 0.031 and abs(c.lng - c.region.lng) <= 0.031
    assert OpeningException.objects.filter(center=sh, reason_code="spring_festival", reason="").count() == 7
    assert "on_site" in sh.services  # the first center of each province visits customers
    assert sh.opening_hours.filter(weekday=6).count() == 1  # Sunday: shorter hours

    User = get_user_model()
    for username in ("hq", "frontdesk", "engineer", "manager"):
        assert User.objects.get(username=username).check_password("servicehub-demo")
    assert StaffMembership.objects.get(user__username="hq").center is None
    assert StaffMembership.objects.get(user__username="manager").center == sh
    assert Certification.objects.get(user__username="engineer").expires_on.year == 2028
    assert "servicehub-demo" in out.getvalue()

    # When seeding again (a new process would build a new rng: so do we)
    demo.seed(out=io.StringIO(), options=dict(options))
    # Then nothing changed
    assert snapshot() == first


def test_seed_is_deterministic_for_a_seed():
    demo.seed(out=io.StringIO(), options={"centers": 10, "collection_points": 10, "seed": 3})
    a = list(ServiceCenter.objects.order_by("code").values_list("code", "lat", "lng"))
    ServiceDay.objects.all().delete()
    StaffShift.objects.all().delete()
    StaffMembership.objects.all().delete()
    ServiceCenter.objects.filter(hub__isnull=False).delete()
    ServiceCenter.objects.all().delete()
    demo.seed(out=io.StringIO(), options={"centers": 10, "collection_points": 10, "seed": 3})
    assert list(ServiceCenter.objects.order_by("code").values_list("code", "lat", "lng")) == a


def test_commands_load_regions_and_coverage():
    out = io.StringIO()
    call_command("load_regions", stdout=out)
    assert "3511 in the dataset, 3511 created, 0 updated" in out.getvalue()
    demo.seed(out=io.StringIO(), options={"centers": 5, "collection_points": 0, "seed": 1})
    out = io.StringIO()
    call_command("coverage", "--by-province", "--limit", "3", stdout=out)
    text = out.getvalue()
    assert "Prefecture-level cities covered:" in text and "Counties covered:" in text
    assert "31 上海市" in text
    assert "... and" in text  # the uncovered list was cut at 3
