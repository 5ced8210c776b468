import io
from decimal import Decimal

import pytest

from loaners import demo
from loaners.models import DepositRule, Loaner, LoanerEvent
from tests.factories.centers import ServiceCenterFactory

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_stocks_every_service_center_half_flagships():
    a = ServiceCenterFactory(code="DEMO1")
    b = ServiceCenterFactory(code="DEMO2", kind="flagship")
    cp = ServiceCenterFactory(code="DEMOCP", kind="collection_point")

    demo.seed(out=io.StringIO(), options={})
    first = sorted(Loaner.objects.values_list("imei", flat=True))
    demo.seed(out=io.StringIO(), options={})

    assert sorted(Loaner.objects.values_list("imei", flat=True)) == first
    for center in (a, b):
        tiers = list(Loaner.objects.filter(current_center=center).values_list("model__tier", flat=True))
        assert sorted(tiers) == ["flagship"] * 3 + ["standard"] * 3
    assert not Loaner.objects.filter(current_center=cp).exists()
    assert not Loaner.objects.filter(needs_wipe=True).exists()
    assert LoanerEvent.objects.filter(action="register").count() == 12
    defaults = dict(DepositRule.objects.filter(province=None).values_list("tier", "deposit"))
    assert defaults == {"flagship": Decimal("2000.00"), "standard": Decimal("800.00")}
