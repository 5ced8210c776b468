"""Factories and helpers for the loaners app (pool, tickets to lend against, deposit rules)."""

import itertools
from decimal import Decimal

import factory
from django.utils import timezone

from centers.models import StaffMembership
from loaners.choices import LoanerCondition, LoanerStatus
from loaners.models import DepositRule, Loaner
from repairs.models import Customer, RepairTicket
from tests.factories.centers import ServiceCenterFactory
from tests.factories.users import StaffUserFactory
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, make_imei, shanghai  # noqa: F401

_ticket_no = itertools.count(1)
_phone = itertools.count(1)


def flagship_model():
    return DeviceModelFactory(code="LN-FLAG", name="Mate Loaner", tier="flagship")


def standard_model():
    return DeviceModelFactory(code="LN-STD", name="Nova Loaner", tier="standard")


class LoanerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Loaner

    imei = factory.LazyFunction(lambda: make_imei(tac="35990011"))
    model = factory.LazyFunction(flagship_model)
    home_center = factory.SubFactory(ServiceCenterFactory)
    current_center = factory.SelfAttribute("home_center")
    condition = LoanerCondition.GOOD
    status = LoanerStatus.AVAILABLE
    accessories = factory.LazyFunction(lambda: ["charger", "cable"])
    replacement_value = Decimal("4999.00")
    last_wiped_at = factory.LazyFunction(timezone.now)
    needs_wipe = False


class DepositRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DepositRule

    province = None
    tier = "flagship"
    deposit = Decimal("2000.00")
    late_fee_per_day = Decimal("50.00")
    waive_for_plan_holders = False


def customer(phone=None, name="李雷"):
    phone = phone or f"+86139{next(_phone):08d}"
    return Customer.objects.get_or_create(phone=phone, defaults={"name": name})[0]


def ticket(*, center=None, status="repairing", customer_obj=None, device=None, promised_at=None, service_no=None):
    """A RepairTicket row in ``status`` (written directly: the repairs state machine is not under test here)."""
    return RepairTicket.objects.create(
        service_no=service_no or f"LN{next(_ticket_no):08d}",
        center=center or ServiceCenterFactory(),
        channel="walk_in",
        customer=customer_obj or customer(),
        device=device or DeviceFactory(),
        fault_category="screen",
        status=status,
        promised_at=promised_at,
    )


def staff_at(center, role="front_desk", **kw):
    user = StaffUserFactory(**kw)
    user.save()  # StaffUserFactory skips the save after set_password; force_login needs the stored hash
    StaffMembership.objects.create(user=user, center=center, role=role)
    return user
