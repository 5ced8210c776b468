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


def test_seed_gives_every_demo_center_umbrellas_and_power_banks_once():
    from loaners.models import Amenity

    a = ServiceCenterFactory(code="DEMOA1")
    b = ServiceCenterFactory(code="DEMOA2", kind="flagship")
    cp = ServiceCenterFactory(code="DEMOACP", kind="collection_point")
    demo.seed(out=io.StringIO(), options={})
    Amenity.objects.filter(center=a, kind="umbrella").update(on_hand=3)  # lent out meanwhile
    demo.seed(out=io.StringIO(), options={})
    assert sorted(Amenity.objects.filter(center=a).values_list("kind", "deposit")) == [
        ("power_bank", Decimal("50.00")),
        ("umbrella", Decimal("20.00")),
    ]
    assert Amenity.objects.get(center=a, kind="umbrella").on_hand == 3  # a re-run does not restock
    assert set(Amenity.objects.filter(center=b).values_list("kind", flat=True)) == {
        "umbrella",
        "power_bank",
        "reading_glasses",
    }
    assert not Amenity.objects.filter(center=cp).exists()
    assert Amenity.objects.get(center=b, kind="umbrella").name_zh == "雨伞"
