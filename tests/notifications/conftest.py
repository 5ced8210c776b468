"""Fixtures for the notifications tests: a customer's ticket at a center (``sms_outbox`` is in tests/conftest.py)."""

import pytest

from repairs.services import ticket_book
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import CustomerFactory
from tests.factories.warranty import DeviceFactory, DeviceModelFactory


@pytest.fixture
def center(db):
    return ServiceCenterFactory(name="上海南京东路授权服务中心", address="南京东路 1 号", phone="021-60000001")


@pytest.fixture
def customer(db):
    return CustomerFactory(phone="+8613812345678", name="王小明", email="", language="zh-hans")


@pytest.fixture
def device(db):
    return DeviceFactory(model=DeviceModelFactory(code="P60", name="Phone 60"))


@pytest.fixture
def ticket(center, customer, device):
    return ticket_book(center=center, customer=customer, device=device, fault_category="screen")
