"""Loaner checkout/return at network scale: query counts (exact) and timing ratios within one run.

Usage (PostgreSQL; the database is FLUSHED first, so use your own):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_loaners .venv/bin/python bench/loaners_checkout.py

Phase "small": 50 centers x 8 loaners (400). Phase "network": 2,400 centers, 18,000
loaners (half flagships), as in the design brief. In each phase it measures, at
one center, N rounds of checkout -> return -> wipe through the services, and the
``no_loaner_available`` path (which computes the nearby centers). Reported:
median milliseconds, the network/small ratio, and the queries of one call.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from stdnum import luhn  # noqa: E402

from centers.models import Region, ServiceCenter  # noqa: E402
from loaners import services  # noqa: E402
from loaners.models import Loaner  # noqa: E402
from repairs.models import Customer, RepairTicket  # noqa: E402
from servicehub.actors import SYSTEM  # noqa: E402
from servicehub.errors import DomainError  # noqa: E402
from warranty.models import Device, DeviceModel  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "40"))


def imei(prefix: str, n: int) -> str:
    body = f"{prefix}{n:0{14 - len(prefix)}d}"
    assert len(body) == 14, body
    return body + luhn.calc_check_digit(body)


def build(n_centers: int, per_center: int, tag: str):
    province = Region.objects.get_or_create(adcode="310000000000", defaults={"name": "上海市", "level": "province"})[0]
    city = Region.objects.get_or_create(
        adcode="310100000000", defaults={"name": "市辖区", "level": "city", "parent": province}
    )[0]
    county = Region.objects.get_or_create(
        adcode="310101000000", defaults={"name": "黄浦区", "level": "county", "parent": city}
    )[0]
    flag = DeviceModel.objects.get_or_create(
        code="B-FLAG", defaults={"name": "Bench F", "category": "phone", "tier": "flagship"}
    )[0]
    std = DeviceModel.objects.get_or_create(
        code="B-STD", defaults={"name": "Bench S", "category": "phone", "tier": "standard"}
    )[0]
    centers = ServiceCenter.objects.bulk_create(
        [
            ServiceCenter(
                code=f"{tag}{i:05d}",
                name=f"Bench {tag} {i}",
                kind="service_center",
                region=county,
                city=city,
                province=province,
                address="x",
                lat=18 + (i * 7919 % 2500) / 100,
                lng=98 + (i * 104729 % 2600) / 100,
            )
            for i in range(n_centers)
        ]
    )
    centers = list(ServiceCenter.objects.filter(code__startswith=tag).order_by("code"))
    now = timezone.now()
    Loaner.objects.bulk_create(
        [
            Loaner(
                imei=imei("351" if tag == "SM" else "352", c_i * 100 + j),
                model=flag if j % 2 == 0 else std,
                home_center=c,
                current_center=c,
                condition="good",
                status="available",
                replacement_value="3999.00",
                last_wiped_at=now,
                needs_wipe=False,
            )
            for c_i, c in enumerate(centers)
            for j in range(per_center)
        ],
        batch_size=2000,
    )
    return centers, flag


def ticket_for(center, n, model):
    customer = Customer.objects.create(name="B", phone=f"+8613{center.pk % 1000:03d}{n:06d}")
    device = Device.objects.create(imei=imei("86", center.pk * 10000 + n), model=model)
    return RepairTicket.objects.create(
        service_no=f"B{center.pk:06d}{n:05d}",
        center=center,
        channel="walk_in",
        customer=customer,
        device=device,
        fault_category="screen",
        status="repairing",
    )


def measure(center, model, empty_center):
    checkout, ret, none = [], [], []
    q = {}
    for n in range(ROUNDS):
        t = ticket_for(center, n, model)
        with CaptureQueriesContext(connection) as cq:
            start = time.perf_counter()
            loan = services.loan_checkout(ticket_id=t.pk, tier="flagship", payment_method="cash", actor=SYSTEM)
            checkout.append(time.perf_counter() - start)
        q["checkout"] = len(cq)
        with CaptureQueriesContext(connection) as cq:
            start = time.perf_counter()
            services.loan_return(loan_id=loan.pk, condition="ok", deductions=[], actor=SYSTEM)
            ret.append(time.perf_counter() - start)
        q["return"] = len(cq)
        services.loaner_wipe(loaner_id=loan.loaner_id, actor=SYSTEM)
        t2 = ticket_for(empty_center, n, model)
        with CaptureQueriesContext(connection) as cq:
            start = time.perf_counter()
            try:
                services.loan_checkout(ticket_id=t2.pk, tier="flagship", payment_method="cash", actor=SYSTEM)
            except DomainError as exc:
                assert exc.code == "no_loaner_available", exc.code
            none.append(time.perf_counter() - start)
        q["no_loaner_available"] = len(cq)
    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    return {"checkout": ms(checkout), "return": ms(ret), "no_loaner_available": ms(none)}, q


def main():
    assert connection.vendor == "postgresql", "run against PostgreSQL (DATABASE_URL)"
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    results = {}
    for phase, n_centers, per_center in (("small", 50, 8), ("network", 2400, 8)):
        centers, flag = build(n_centers, per_center, tag=phase[:2].upper())
        empty = centers[-1]
        Loaner.objects.filter(current_center=empty).update(status="retired")
        # 2,400 x 8 = 19,200 rows; retire the surplus so the pool is 18,000 (half flagships).
        if phase == "network":
            surplus = (
                Loaner.objects.filter(status="available")
                .order_by("-pk")
                .values_list("pk", flat=True)[: 19200 - 18000 - 8]
            )
            Loaner.objects.filter(pk__in=list(surplus)).update(status="retired")
        connection.cursor().execute("ANALYZE")
        results[phase] = measure(centers[0], flag, empty)
        total = Loaner.objects.exclude(status="retired").count()
        print(f"{phase}: centers={n_centers} loaners in pool={total}")
        for k, v in results[phase][0].items():
            print(f"  {k:22s} median {v:7.2f} ms   queries {results[phase][1][k]}")
    print("ratios network/small (median):")
    for k in results["small"][0]:
        print(f"  {k:22s} {results['network'][0][k] / results['small'][0][k]:.2f}")


if __name__ == "__main__":
    main()
