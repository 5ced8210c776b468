"""Shared parsing: money in ASCII digits only; impossible or far-off dates and months refused, never a 500."""

import datetime as dt
from decimal import Decimal, InvalidOperation

import pytest
from django import forms
from rest_framework import serializers

from servicehub.dates import parse_day, parse_moment, parse_month
from servicehub.money import money
from tests.factories.booking import open_center
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import staff_at
from tests.factories.users import StaffUserFactory


@pytest.mark.parametrize("value", ["１２９", "١٢٩", "129０", "1e3", "NaN", "Infinity", "12,9", ""])
def test_money_refuses_anything_but_ascii_decimals(value):
    with pytest.raises(InvalidOperation):
        money(value)


def test_money_still_parses_plain_input():
    assert money("129") == Decimal("129.00") and money(" 99.995 ") == Decimal("100.00")
    assert (
        money(Decimal("1.005")) == Decimal("1.01") and money(12) == Decimal("12.00") and money(0.1) == Decimal("0.10")
    )


class _Body(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)


class _Form(forms.Form):
    amount = forms.DecimalField(max_digits=10, decimal_places=2, required=False)


@pytest.mark.parametrize("value", ["１２９", "١٢٩.00", "1e2"])
def test_every_drf_and_form_decimal_field_refuses_non_ascii_digits(value):
    body = _Body(data={"amount": value})
    assert not body.is_valid() and body.errors["amount"] == ["A valid number is required."]
    form = _Form(data={"amount": value})
    assert not form.is_valid() and form.errors["amount"] == ["Enter a number."]


def test_decimal_fields_still_accept_plain_numbers():
    body = _Body(data={"amount": "129.50"})
    assert body.is_valid() and body.validated_data["amount"] == Decimal("129.50")
    assert _Body(data={"amount": 129}).is_valid()
    form = _Form(data={"amount": " 129.5 "})
    assert form.is_valid() and form.cleaned_data["amount"] == Decimal("129.5")
    assert _Form(data={"amount": ""}).is_valid()


@pytest.mark.parametrize(
    "value", ["0000-01-01", "9999-12-31", "2026-02-31", "2026-13-01", "2026-1-1", "", None, "２０２６-01-01"]
)
def test_parse_day_refuses_impossible_and_far_off_days(value):
    assert parse_day(value) is None


def test_parse_day_month_moment_accept_real_values():
    assert parse_day("2026-02-28") == dt.date(2026, 2, 28)
    assert parse_month("2026-12") == (2026, 12)
    assert parse_month("0000-01") is None and parse_month("9999-12") is None and parse_month("2026-00") is None
    assert parse_moment("2026-02-31T10:00:00+08:00") is None and parse_moment("9999-12-31T23:59:59+00:00") is None
    assert parse_moment("2026-12-04T10:00:00+08:00").hour == 10


@pytest.mark.django_db
@pytest.mark.parametrize("month", ["0000-01", "9999-12", "0001-01", "2026-13"])
def test_service_days_impossible_month_is_400(client, month):
    r = client.get("/api/v1/service-days/", {"month": month})
    assert r.status_code == 400, r.content
    assert r["Content-Type"].startswith("application/problem+json")
    assert r.json()["code"] == "validation_error" and list(r.json()["errors"]) == ["month"]


@pytest.mark.django_db
def test_service_days_real_month_still_answers(client):
    assert client.get("/api/v1/service-days/", {"month": "2026-12"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["0000-01-01", "2026-02-31", "2026-13-01", "9999-12-31"])
def test_book_page_with_an_impossible_day_shows_the_default_day(client, day):
    # a hand-edited impossible or far-off date: refused at once in words (400), never a 500,
    # and the page goes on with a bookable day
    center = open_center()
    r = client.get("/book/", {"center": center.code, "date": day})
    assert r.status_code == 400
    assert r.context["date_error"]
    assert r.context["day"].isoformat() != day and r.context["slots"]
    assert f'name="date" value="{day}"' not in r.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-02-31"])
def test_cash_report_with_an_impossible_day_shows_today_with_a_message(client, day):
    center = ServiceCenterFactory()
    client.force_login(staff_at(center))
    r = client.get("/admin/loaners/loan/cash-report/", {"day": day}, follow=True)
    assert r.status_code == 200
    assert "Dates look like 2026-03-01; showing today." in r.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/ops/hq/", "/admin/ops/dashboard/"])
def test_dashboards_with_far_off_periods_fall_back_to_the_default(client, url):
    user = StaffUserFactory(is_superuser=True)
    user.save()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    for start, end in (("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-02"), ("2026-02-31", "2026-03-01")):
        assert client.get(url, {"start": start, "end": end}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("start", ["0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00"])
def test_a_date_time_at_the_calendars_edge_is_400_not_500(client, start):
    center = open_center()
    r = client.post(
        "/api/v1/appointments/",
        {
            "center": center.code,
            "start": start,
            "customer": {"name": "王小明", "phone": "13800138000"},
            "device": {"imei": "860123450007785", "model": "X"},
            "issue": "Cracked screen",
        },
        content_type="application/json",
    )
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"]["start"] == ["Datetime value out of range."]


class _When(serializers.Serializer):
    at = serializers.DateTimeField()


def test_drf_datetime_fields_refuse_overflowing_values_and_keep_real_ones():
    bad = _When(data={"at": "0001-01-01T00:00:00"})
    assert not bad.is_valid() and bad.errors["at"] == ["Datetime value out of range."]
    good = _When(data={"at": "2026-12-04T10:00:00+08:00"})
    assert good.is_valid() and good.validated_data["at"].hour in (2, 10)
