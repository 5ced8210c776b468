"""The stock API and the ticket API's parts: scopes, center scoping, filters, fixed query counts."""

import pytest
from rest_framework.test import APIClient

from partners.services import api_key_create
from tests.factories.partners import PartnerFactory
from tests.factories.parts import PartFactory, part_for, stock
from tests.factories.repairs import RepairOperationFactory, run, walk_in
from tests.factories.warranty import DeviceModelFactory

pytestmark = pytest.mark.django_db


def key_client(*, scopes, centers=()):
    partner = PartnerFactory()
    if centers:
        partner.centers.add(*centers)
    _key, raw = api_key_create(partner=partner, scopes=scopes)
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return c


def url(center):
    return f"/api/v1/centers/{center.code}/stock/"


def test_stock_of_a_center_with_filters(center, screen, battery, model):
    stock(center, screen, 2)
    stock(center, battery, 1)
    other_model = DeviceModelFactory(code="Q10")
    other = part_for(RepairOperationFactory(device_model=other_model, code="battery"), name_en="Q10 battery")
    stock(center, other, 4)
    c = key_client(scopes=["parts:read"], centers=[center])

    r = c.get(url(center))
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3
    assert body["results"][0] == {
        "part": "P60-BATTERY-NEW",
        "name": "P60 battery",
        "model": "P60",
        "grade": "new",
        "on_hand": 1,
        "reserved": 0,
        "available": 1,
    }
    assert [row["part"] for row in c.get(url(center), {"model": "Q10"}).json()["results"]] == [other.part_number]
    assert [row["part"] for row in c.get(url(center), {"part": screen.part_number}).json()["results"]] == [
        screen.part_number
    ]


def test_available_is_on_hand_minus_reserved(center, people, old_device, battery):
    stock(center, battery, 3)
    t = walk_in(center, people["desk"], device=old_device)
    run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], {"lines": [{"repair": "battery"}]}),
        ("approve", people["desk"]),
    )
    row = key_client(scopes=["parts:read"], centers=[center]).get(url(center)).json()["results"][0]
    assert (row["on_hand"], row["reserved"], row["available"]) == (3, 1, 2)


def test_scope_and_center_of_the_key(center, hub, battery):
    stock(center, battery, 1)
    assert key_client(scopes=["tickets:read"], centers=[center]).get(url(center)).status_code == 403
    r = key_client(scopes=["parts:read"], centers=[hub]).get(url(center))
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = key_client(scopes=["parts:read"], centers=[center]).get("/api/v1/centers/NOPE/stock/")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    assert APIClient().get(url(center)).status_code in (401, 403)


def test_hq_staff_session_sees_any_center(center, battery, django_user_model):
    stock(center, battery, 1)
    admin = django_user_model.objects.create_superuser("hq", "hq@example.com", "pw")
    c = APIClient()
    c.force_authenticate(admin)
    assert c.get(url(center)).json()["count"] == 1


@pytest.mark.parametrize("n", [2, 25])
def test_stock_query_count_does_not_grow_with_rows(center, model, n, django_assert_num_queries):
    for i in range(n):
        part = PartFactory(part_number=f"PN-{i:03d}")
        part.device_models.add(model)
        stock(center, part, i + 1)
    c = key_client(scopes=["parts:read"], centers=[center])
    c.get(url(center))  # warm the key's caches (authentication rows)
    # key lookup + key centers + partner centers, center, count, page, device models prefetch
    with django_assert_num_queries(7):
        r = c.get(url(center))
    assert len(r.json()["results"]) == min(n, 20)


def test_ticket_api_lists_the_parts(center, people, old_device, battery, screen, django_assert_max_num_queries):
    stock(center, battery, 1)
    t = walk_in(center, people["desk"], device=old_device)
    run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], {"lines": [{"repair": "battery"}, {"repair": "screen"}]}),
        ("approve", people["desk"]),
    )
    c = APIClient()
    c.force_authenticate(people["desk"].user)
    with django_assert_max_num_queries(11):
        body = c.get(f"/api/v1/tickets/{t.service_no}/").json()
    assert body["status"] == "awaiting_parts"
    assert body["parts"] == [
        {"part": battery.part_number, "status": "reserved"},
        {"part": screen.part_number, "status": "awaiting"},
    ]
