"""Fixtures for the notifications tests: a customer's ticket at a center, SMS captured in memory."""

import pytest

from repairs.services import ticket_book
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import CustomerFactory
from tests.factories.warranty import DeviceFactory, DeviceModelFactory

SENT_SMS: list[dict] = []


class MemorySMSBackend:
    """Records every call; ``fail_with`` makes the next calls raise."""

    fail_with: Exception | None = None

    def send(self, *, to, text, idempotency_key=""):
        if MemorySMSBackend.fail_with is not None:
            raise MemorySMSBackend.fail_with
        SENT_SMS.append({"to": to, "text": text, "key": idempotency_key})
        return f"mem-{len(SENT_SMS)}"


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "tests.notifications.conftest.MemorySMSBackend"
    SENT_SMS.clear()
    MemorySMSBackend.fail_with = None
    yield SENT_SMS
    SENT_SMS.clear()
    MemorySMSBackend.fail_with = None


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
