"""Loaners, deposits, plans, appointments, callbacks, surveys, Service Days: exact numbers on known data."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from centers.models import ServiceDay
from loaners import services as loan_services
from loaners.choices import LoanerStatus
from ops import selectors
from ops.periods import Period
from servicehub.actors import SYSTEM
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import DepositRuleFactory, LoanerFactory, standard_model
from tests.factories.ops import at, ticket
from tests.factories.repairs import staff
from tests.factories.warranty import DeviceFactory, extended_warranty, purchase, screen_care

pytestmark = pytest.mark.django_db

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.fixture
def centers():
    return ServiceCenterFactory(code="SHA01"), ServiceCenterFactory(code="SHB02")


@pytest.fixture
def pool(centers):
    a, b = centers
    DepositRuleFactory(tier="flagship", deposit=Decimal("2000.00"))
    DepositRuleFactory(tier="standard", deposit=Decimal("800.00"))
    LoanerFactory(home_center=a)  # available
    LoanerFactory(home_center=a, needs_wipe=True)  # waiting for a wipe: not lendable
    LoanerFactory(home_center=a, status=LoanerStatus.MAINTENANCE)
    LoanerFactory(home_center=a, status=LoanerStatus.RETIRED)  # not in the pool
    LoanerFactory(home_center=a, model=standard_model())
    LoanerFactory(home_center=b)  # another center
    return a, b


def _lend(center, tier="flagship"):
    t = ticket(center, status="repairing")
    return loan_services.loan_checkout(ticket_id=t.pk, tier=tier, payment_method="cash", actor=SYSTEM)


def test_loaners_by_tier_and_deposits_held(pool, django_assert_num_queries):
    a, _b = pool
    loan = _lend(a)  # takes the one lendable flagship

    with django_assert_num_queries(2):
        rows = {r["tier"]: r for r in selectors.loaners_by_tier(center_ids=frozenset({a.pk}))}
    assert {k: rows["flagship"][k] for k in ("pool", "available", "out", "overdue", "unavailable")} == {
        "pool": 3,
        "available": 0,
        "out": 1,
        "overdue": 0,
        "unavailable": 2,
    }
    assert rows["flagship"]["utilization"] == Decimal("33.3")
    assert (rows["standard"]["pool"], rows["standard"]["available"], rows["standard"]["out"]) == (1, 1, 0)

    # past its due time the loan counts as overdue even before the overdue job has run
    later = {r["tier"]: r for r in selectors.loaners_by_tier(center_ids=None, now=loan.due_at + dt.timedelta(hours=1))}
    assert later["flagship"]["overdue"] == 1

    with django_assert_num_queries(1):
        assert selectors.deposits_held(center_ids=frozenset({a.pk})) == {
            "held": Decimal("2000.00"),
            "loans_with_deposit": 1,
        }
    loan_services.loan_return(loan_id=loan.pk, condition="ok", deductions=[], actor=SYSTEM)
    assert selectors.deposits_held(center_ids=frozenset({a.pk}))["held"] == Decimal("0.00")
    assert selectors.deposits_held(center_ids=frozenset({_b.pk}))["held"] == Decimal("0.00")


def test_cash_today_is_the_loaners_cash_report(pool):
    a, _b = pool
    _lend(a)
    rows = selectors.cash_today(center_ids=frozenset({a.pk}), day=timezone.localdate())
    assert len(rows) == 1
    assert rows[0]["center"] == a
    assert rows[0]["taken"]["cash"] == Decimal("2000.00") and rows[0]["held"] == Decimal("2000.00")


def test_loaner_utilization_clips_loans_to_the_period(pool, django_assert_num_queries):
    a, _b = pool
    loan = _lend(a)
    day = timezone.localtime(loan.out_at).date()
    period = Period(day, day + dt.timedelta(days=1))  # so out_at + 2 h is inside even near midnight
    now = loan.out_at + dt.timedelta(hours=2)
    with django_assert_num_queries(2):
        rows = {
            r["tier"]: r for r in selectors.loaner_utilization(center_ids=frozenset({a.pk}), period=period, now=now)
        }
    # lent for exactly 2 h; the pool (3 flagship loaners at A) counts from midnight
    span_days = Decimal(str((now - period.since).total_seconds())) / 86400
    assert rows["flagship"]["loan_days"] == (Decimal(2) / 24).quantize(Decimal("0.01"))
    assert rows["flagship"]["pool_days"] == (3 * span_days).quantize(Decimal("0.01"))
    expected = (Decimal(2) / 24 * 100 / (3 * span_days)).quantize(Decimal("0.1"))
    assert rows["flagship"]["rate"] == expected
    assert rows["standard"]["loan_days"] == Decimal("0.00")


def test_plan_attach_rate_counts_net_sales_per_device_sold(django_assert_num_queries):
    sold = at(2026, 3, 10, 12)
    devices = [DeviceFactory(sold_at=sold) for _ in range(4)]
    DeviceFactory(sold_at=at(2026, 2, 10, 12))  # sold in February: not in the denominator
    sc, ext = screen_care(), extended_warranty()
    purchase(device=devices[0], product=sc, purchased_at=sold)
    purchase(device=devices[1], product=sc, purchased_at=sold)
    purchase(device=devices[2], product=ext, purchased_at=sold)
    refunded = purchase(device=devices[3], product=sc, purchased_at=sold)
    type(refunded).objects.filter(pk=refunded.pk).update(status="refunded")  # returned: not a sale

    with django_assert_num_queries(2):
        data = selectors.plan_attach_rate(period=MARCH)
    assert data == {
        "devices_sold": 4,
        "plans_sold": 3,
        "rate": Decimal("75.0"),
        "by_kind": [
            {"kind": "extended_warranty", "plans": 1, "rate": Decimal("25.0")},
            {"kind": "screen_care", "plans": 2, "rate": Decimal("50.0")},
        ],
    }


def test_appointments_today(centers, django_assert_num_queries):
    from booking.models import Appointment

    a, b = centers
    day = dt.date(2026, 3, 10)

    def appt(center, hour, status="booked", received=False, when=day):
        t = ticket(
            center,
            status="received" if received else "booked",
            received_at=at(when.year, when.month, when.day, hour) if received else None,
        )
        start = at(when.year, when.month, when.day, hour)
        return Appointment.objects.create(
            ticket=t,
            center=center,
            start=start,
            end=start + dt.timedelta(minutes=30),
            customer=t.customer,
            device=t.device,
            issue="screen",
            status=status,
        )

    appt(a, 9, received=True)
    appt(a, 10)
    appt(a, 11, status="cancelled")
    appt(a, 12, status="no_show")
    appt(a, 9, when=dt.date(2026, 3, 11))  # tomorrow
    appt(b, 9)  # other center
    with django_assert_num_queries(1):
        data = selectors.appointments_on(center_ids=frozenset({a.pk}), day=day)
    assert data == {"total": 4, "booked": 2, "arrived": 1, "waiting": 1, "cancelled": 1, "no_show": 1}


def test_callbacks_summary():
    from booking.models import CallbackRequest

    now = timezone.now()

    def cb(status="open", age_minutes=0, handled=False):
        c = CallbackRequest.objects.create(
            name="王小明",
            phone="+8613800000000",
            topic="repair",
            preferred_window="morning",
            status=status,
            outcome="resolved" if status == "done" else "",  # a closed request says how (a check constraint)
            handled_at=now if handled else None,
        )
        CallbackRequest.objects.filter(pk=c.pk).update(created_at=now - dt.timedelta(minutes=age_minutes))

    cb(age_minutes=30)
    cb(age_minutes=90)
    cb(status="done", age_minutes=10, handled=True)
    cb(status="done", age_minutes=60 * 24 * 3)  # done days ago, not today
    data = selectors.callbacks_summary(now=now)
    assert data["open"] == 2 and data["oldest_open_minutes"] == 90 and data["done_today"] == 1


def _survey(center, engineer, overall, staff_, speed, quality, when=None, recommend=None):
    from booking.models import Survey

    t = ticket(center, status="closed")
    s = Survey.objects.create(
        ticket=t,
        center=center,
        engineer=engineer,
        overall=overall,
        staff=staff_,
        speed=speed,
        quality=quality,
        recommend=recommend,
    )
    Survey.objects.filter(pk=s.pk).update(created_at=when or at(2026, 3, 15, 12))
    return s


def test_csat_and_service_star_ranking(centers, django_assert_num_queries):
    a, b = centers
    e1, e2, e3 = staff(a, "engineer"), staff(a, "engineer"), staff(b, "engineer")
    e1.last_name, e1.first_name = "张", "伟"
    e1.save()
    for _ in range(5):
        _survey(a, e1, 5, 5, 4, 4)  # mean 4.5
    for _ in range(6):
        _survey(a, e2, 5, 5, 5, 3)  # mean 4.5, more responses -> ranks above e1
    for _ in range(4):
        _survey(b, e3, 5, 5, 5, 5)  # 5.0 but only 4 surveys: does not rank
    _survey(a, e1, 1, 1, 1, 1, when=at(2026, 4, 2, 12))  # April: not in March

    with django_assert_num_queries(1):
        stars = selectors.service_stars(center_ids=None, period=MARCH)
    assert [(s["rank"], s["username"], s["responses"], s["score"]) for s in stars] == [
        (1, e2.username, 6, Decimal("4.50")),
        (2, e1.username, 5, Decimal("4.50")),
    ]
    assert stars[1]["staff"] == "张伟"

    with django_assert_num_queries(1):
        data = selectors.csat(center_ids=frozenset({a.pk}), period=MARCH)
    assert data["responses"] == 11 and data["satisfied"] == 11 and data["csat"] == Decimal("100.0")
    assert data["avg_quality"] == Decimal("3.45")  # (5*4 + 6*3) / 11 = 3.4545...
    assert data["nps"] is None and data["nps_answers"] == 0  # nobody answered the 0-10 question


def test_nps_counts_promoters_and_detractors_among_the_answers(centers, django_assert_num_queries):
    a, b = centers
    e = staff(a, "engineer")
    for recommend in (10, 9, 9, 8, 7, 6, 0):  # 3 promoters, 2 passives, 2 detractors
        _survey(a, e, 5, 5, 5, 5, recommend=recommend)
    _survey(a, e, 4, 4, 4, 4)  # skipped the question: in CSAT, not in NPS
    _survey(b, e, 5, 5, 5, 5, recommend=0)  # another center
    _survey(a, e, 5, 5, 5, 5, recommend=10, when=at(2026, 4, 2, 12))  # April

    with django_assert_num_queries(1):
        data = selectors.csat(center_ids=frozenset({a.pk}), period=MARCH)
    assert (data["responses"], data["nps_answers"], data["promoters"], data["detractors"]) == (8, 7, 3, 2)
    assert data["nps"] == Decimal("14.3")  # (3 - 2) / 7 = 14.29 %
    network = selectors.csat(center_ids=None, period=MARCH)
    assert (network["nps_answers"], network["detractors"], network["nps"]) == (8, 3, Decimal("0.0"))


def test_service_days_this_month(centers, django_assert_num_queries):
    a, b = centers
    for center in (a, b):
        for d in (6, 7, 8):
            ServiceDay.objects.create(center=center, date=dt.date(2026, 3, d))
    ServiceDay.objects.filter(center=b, date=dt.date(2026, 3, 8)).update(active=False)  # b opted out of Sunday
    ServiceDay.objects.create(center=a, date=dt.date(2026, 4, 3))
    with django_assert_num_queries(1):
        rows = selectors.service_days_month(center_ids=None, year=2026, month=3)
    assert rows == [
        {"date": dt.date(2026, 3, 6), "centers": 2},
        {"date": dt.date(2026, 3, 7), "centers": 2},
        {"date": dt.date(2026, 3, 8), "centers": 1},
    ]
