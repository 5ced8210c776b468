"""Staff UI for centers: scoping, CSV import/export, deactivate, no deletes — with the Django test client."""

import io

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import path

from centers.choices import CenterKind
from centers.models import Certification, ServiceCenter, StaffMembership
from tests.factories.centers import CertificationFactory, ServiceCenterFactory, StaffMembershipFactory, region_chain
from tests.factories.users import StaffUserFactory

urlpatterns = [path("admin/", admin.site.urls)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.centers.test_admin")]

CHANGELIST = "/admin/centers/servicecenter/"
IMPORT = "/admin/centers/servicecenter/import-csv/"


def staff(role="front_desk", center=None, username=None):
    user = StaffUserFactory(**({"username": username} if username else {}))
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="centers"))
    user.save()
    StaffMembership.objects.create(user=user, center=center, role=role)
    return user


@pytest.fixture
def two_centers():
    return ServiceCenterFactory(code="SC-A"), ServiceCenterFactory(code="SC-B")


def test_staff_see_only_their_centers(client, two_centers):
    a, b = two_centers
    client.force_login(staff(center=a))
    r = client.get(CHANGELIST)
    assert r.status_code == 200
    assert [c.code for c in r.context["cl"].result_list] == ["SC-A"]
    assert client.get(f"{CHANGELIST}{b.pk}/change/").status_code == 302  # "does not exist" redirect
    assert client.get(f"{CHANGELIST}{a.pk}/change/").status_code == 200
    # and no import / add for a center's staff
    assert client.get(IMPORT).status_code == 403
    assert client.get(f"{CHANGELIST}add/").status_code == 403


def test_hq_sees_all_and_filters(client, two_centers):
    ServiceCenter.objects.filter(code="SC-B").update(kind=CenterKind.FLAGSHIP, official=False)
    client.force_login(staff(role="hq"))
    assert [c.code for c in client.get(CHANGELIST).context["cl"].result_list] == ["SC-A", "SC-B"]
    assert [c.code for c in client.get(CHANGELIST, {"kind": "flagship"}).context["cl"].result_list] == ["SC-B"]
    assert [c.code for c in client.get(CHANGELIST, {"official__exact": "1"}).context["cl"].result_list] == ["SC-A"]
    assert len(client.get(CHANGELIST, {"province": "310000000000"}).context["cl"].result_list) == 2
    assert [c.code for c in client.get(CHANGELIST, {"q": "SC-B"}).context["cl"].result_list] == ["SC-B"]


def test_delete_is_disabled(client, two_centers):
    a, _b = two_centers
    user = staff(role="hq")
    client.force_login(user)
    r = client.get(CHANGELIST)
    assert "delete_selected" not in r.context["action_form"].fields["action"].choices.__repr__()
    assert client.post(f"{CHANGELIST}{a.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ServiceCenter.objects.filter(pk=a.pk).exists()


def test_deactivate_action_and_its_refusal(client):
    hub = ServiceCenterFactory(code="HUB", kind=CenterKind.MAIL_IN_HUB)
    spoke = ServiceCenterFactory(code="CP", kind=CenterKind.COLLECTION_POINT, hub=hub)
    client.force_login(staff(role="hq"))
    r = client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [hub.pk]}, follow=True)
    assert "Active collection points still forward" in r.content.decode()
    hub.refresh_from_db()
    assert hub.active
    client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [spoke.pk, hub.pk]})
    assert list(ServiceCenter.objects.filter(active=True)) == []
    client.post(CHANGELIST, {"action": "reactivate", "_selected_action": [hub.pk]})
    assert list(ServiceCenter.objects.filter(active=True)) == [hub]


def test_export_csv_round_trips_through_import(client, two_centers):
    client.force_login(staff(role="hq"))
    r = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [c.pk for c in two_centers]})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0] == "code,name,kind,official,county_adcode,address,lat,lng,phone,services,hub_code,opened_on,active"
    assert [line.split(",")[0] for line in lines[1:]] == ["SC-A", "SC-B"]
    # importing the export back changes nothing
    r = client.post(IMPORT, {"file": io.BytesIO(r.content)}, follow=True)
    assert "0 created, 0 updated, 2 unchanged" in r.content.decode()


def test_import_shows_row_errors_and_writes_nothing(client):
    region_chain()
    client.force_login(staff(role="hq"))
    bad = (
        b"code,name,kind,official,county_adcode,address,lat,lng,phone,services,hub_code,opened_on,active\n"
        b"SC-1,Good,service_center,true,310101000000,a,31.2,121.4,,phone,,,true\n"
        b"SC-2,Bad,kiosk,true,310101000000,a,31.2,121.4,,phone,,,true\n"
    )
    f = io.BytesIO(bad)
    f.name = "centers.csv"
    r = client.post(IMPORT, {"file": f})
    assert r.status_code == 200
    assert r.context["row_errors"] == [("row 3", ["kind: unknown value 'kiosk'."])]
    assert "row 3" in r.content.decode()
    assert not ServiceCenter.objects.exists()


def test_import_creates_centers(client):
    region_chain()
    client.force_login(staff(role="hq"))
    good = (
        "code,name,kind,official,county_adcode,address,lat,lng,phone,services,hub_code,opened_on,active\n"
        "SC-1,Good,service_center,true,310101000000,a,31.2,121.4,021-61234567,phone;walk_in,,2024-01-01,true\n"
    ).encode("utf-8-sig")
    f = io.BytesIO(good)
    f.name = "centers.csv"
    r = client.post(IMPORT, {"file": f})
    assert r.status_code == 302
    c = ServiceCenter.objects.get(code="SC-1")
    assert (c.province.adcode, c.services, c.phone_digits) == ("310000000000", ["phone", "walk_in"], "2161234567")


def test_add_form_goes_through_the_service(client):
    _p, city, county = region_chain()
    client.force_login(staff(role="hq"))
    data = {
        "code": "SC-NEW", "name": "New", "kind": "service_center", "official": "on", "region": county.pk,
        "address": "a", "lat": "31.2", "lng": "121.4", "phone": "021 6000 0001", "services": '["phone"]',
        "hub": "", "opened_on": "",
        "opening_hours-TOTAL_FORMS": "1", "opening_hours-INITIAL_FORMS": "0",
        "opening_hours-0-weekday": "0", "opening_hours-0-opens": "09:00", "opening_hours-0-closes": "18:00",
        "opening_exceptions-TOTAL_FORMS": "0", "opening_exceptions-INITIAL_FORMS": "0",
    }  # fmt: skip
    r = client.post(f"{CHANGELIST}add/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    c = ServiceCenter.objects.get(code="SC-NEW")
    assert (c.city, c.phone_digits, c.opening_hours.count()) == (city, "2160000001", 1)
    # a bad service is refused by the form, with nothing written
    data.update(code="SC-BAD", services='["teleport"]')
    r = client.post(f"{CHANGELIST}add/", data)
    assert r.status_code == 200
    assert "services" in r.context["adminform"].form.errors
    assert not ServiceCenter.objects.filter(code="SC-BAD").exists()


def test_memberships_and_certifications_are_scoped(client, two_centers):
    a, b = two_centers
    manager = staff(role="manager", center=a, username="mgr")
    eng_a = StaffMembershipFactory(center=a, role="engineer").user
    eng_b = StaffMembershipFactory(center=b, role="engineer").user
    CertificationFactory(user=eng_a, number="C-A")
    CertificationFactory(user=eng_b, number="C-B")
    client.force_login(manager)
    members = client.get("/admin/centers/staffmembership/").context["cl"].result_list
    assert {m.center_id for m in members} == {a.pk}
    certs = client.get("/admin/centers/certification/").context["cl"].result_list
    assert [c.number for c in certs] == ["C-A"]
    assert Certification.objects.count() == 2


def test_regions_are_read_only(client):
    _p, _c, county = region_chain()
    client.force_login(staff(role="hq"))
    r = client.get("/admin/centers/region/", {"q": "黄浦"})
    assert [x.adcode for x in r.context["cl"].result_list] == ["310101000000"]
    assert client.get("/admin/centers/region/add/").status_code == 403
    assert client.post(f"/admin/centers/region/{county.pk}/delete/", {"post": "yes"}).status_code == 403


def test_change_form_updates_through_the_service(client):
    center = ServiceCenterFactory(code="SC-CHG")
    _p2, city2, county2 = region_chain("320000000000", "320100000000", "320102000000")
    client.force_login(staff(role="manager", center=center))
    data = {
        "name": "Renamed", "kind": "service_center", "official": "on", "region": county2.pk,
        "address": "b", "lat": "32.06", "lng": "118.79", "phone": "025-8888 0000", "services": '["phone"]',
        "hub": "", "opened_on": "2020-01-01", "service_days_opt_out": "on",
        "opening_hours-TOTAL_FORMS": "0", "opening_hours-INITIAL_FORMS": "0",
        "opening_exceptions-TOTAL_FORMS": "0", "opening_exceptions-INITIAL_FORMS": "0",
    }  # fmt: skip
    r = client.post(f"{CHANGELIST}{center.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    center.refresh_from_db()
    assert (center.name, center.city, center.province.adcode) == ("Renamed", city2, "320000000000")
    assert (center.phone_digits, center.service_days_opt_out, center.code) == ("2588880000", True, "SC-CHG")


def test_overlapping_inline_hours_are_refused(client):
    center = ServiceCenterFactory(code="SC-OVL")
    client.force_login(staff(role="hq"))
    data = {
        "name": center.name, "kind": "service_center", "official": "on", "region": center.region_id,
        "address": "a", "lat": "31.2", "lng": "121.4", "phone": center.phone, "services": '["phone"]',
        "hub": "", "opened_on": "2020-01-01",
        "opening_hours-TOTAL_FORMS": "2", "opening_hours-INITIAL_FORMS": "0",
        "opening_hours-0-weekday": "0", "opening_hours-0-opens": "09:00", "opening_hours-0-closes": "13:00",
        "opening_hours-1-weekday": "0", "opening_hours-1-opens": "12:00", "opening_hours-1-closes": "18:00",
        "opening_exceptions-TOTAL_FORMS": "0", "opening_exceptions-INITIAL_FORMS": "0",
    }  # fmt: skip
    r = client.post(f"{CHANGELIST}{center.pk}/change/", data)
    assert r.status_code == 200
    assert "Opening hours overlap on" in r.content.decode()  # the weekday is translated (zh-hans default)
    assert center.opening_hours.count() == 0
    data["opening_hours-1-opens"] = "13:00"  # a lunch-break-free split is fine
    assert client.post(f"{CHANGELIST}{center.pk}/change/", data).status_code == 302
    assert center.opening_hours.count() == 2
