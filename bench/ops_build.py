"""Build the operations benchmark database (default: 1,000,000 tickets) with COPY.

    createdb -h 127.0.0.1 -U postgres sh_ops_bench
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_ops_bench .venv/bin/python manage.py migrate
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_ops_bench \
        .venv/bin/python bench/ops_build.py [--tickets N]

What it writes (deterministic, seed 9): the real region list (cpca), 2,400 service
centers + 600 collection points, 20 device models, devices (0.9 x tickets), customers
(0.5 x tickets), ~19,200 staff with memberships and certifications (80% of engineers),
N tickets over the last 365 days with their full timelines (~8 events each), surveys on
30% of delivered repairs, appointments for appointment tickets, 18,000 loaners with loans
and deposit ledgers, plan purchases, callbacks, this month's Service Days. Rows are
generated in Python and streamed with ``COPY ... FROM STDIN`` in chunks; sequences are
reset and the tables ANALYZEd at the end.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

UTC = dt.UTC
R = random.Random(9)
NOW = timezone.now().replace(microsecond=0)
CHUNK = 100_000


NULL = "\\N"


def ts(value: dt.datetime | None) -> str:
    return NULL if value is None else value.astimezone(UTC).isoformat()


def copy(table: str, columns: list[str], rows, *, chunk: int = CHUNK) -> int:
    """Stream ``rows`` into ``table`` with COPY CSV, ``chunk`` rows at a time.

    Values are written by the C csv writer; ``NULL`` (``\\N``) marks SQL NULL, so an
    empty string stays an empty string.
    """
    n = 0
    cols = ", ".join(f'"{c}"' for c in columns)
    sql = f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')"
    batch: list = []
    with connection.cursor() as cur:
        raw = cur.cursor  # psycopg2 cursor

        def send():
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(batch)
            buf.seek(0)
            raw.copy_expert(sql, buf)

        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                send()
                n += len(batch)
                batch = []
        if batch:
            send()
            n += len(batch)
    return n


def reset_sequences(tables: list[str]) -> None:
    with connection.cursor() as cur:
        for t in tables:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 1))")


def log(msg: str, started: float) -> None:
    print(f"[{time.monotonic() - started:7.1f}s] {msg}", flush=True)


# Stage targets (minutes) as repairs.choices.DEFAULT_STAGE_SLA_MINUTES, for stage_due_at of open tickets.
SLA = {
    "received": 60,
    "diagnosing": 60,
    "awaiting_approval": 2880,
    "awaiting_parts": 4320,
    "repairing": 60,
    "quality_check": 30,
    "ready": 10080,
    "returning": 4320,
}
FAULTS = (
    ["screen"] * 35
    + ["battery"] * 25
    + ["mainboard"] * 8
    + ["camera"] * 7
    + ["charging_port"] * 8
    + ["liquid_damage"] * 5
    + ["software"] * 8
    + ["other"] * 4
)
CHANNELS = ["walk_in"] * 45 + ["appointment"] * 30 + ["mail_in"] * 15 + ["on_site"] * 5 + ["collection_point"] * 5


def timeline(created: dt.datetime, channel: str, rng: random.Random):
    """The full event path of a repair that ends delivered: [(action, from, to, at)], received_at, delivered_at."""
    events = []
    t = created
    if channel == "appointment":
        events.append(("book", "", "booked", t))
        t = t + dt.timedelta(minutes=rng.randint(60, 48 * 60))
        events.append(("check_in", "booked", "received", t))
    else:
        events.append(("check_in", "", "received", t))
    received = t

    def step(action, frm, to, mean_minutes):
        nonlocal t
        t = t + dt.timedelta(minutes=max(1, int(rng.expovariate(1 / mean_minutes))))
        events.append((action, frm, to, t))

    step("start_diagnosis", "received", "diagnosing", 40)
    if rng.random() < 0.5:  # paid repair: quote and approval
        step("send_quote", "diagnosing", "awaiting_approval", 50)
        step("approve", "awaiting_approval", "repairing", 240)
    else:
        step("start_repair", "diagnosing", "repairing", 50)
    if rng.random() < 0.1:
        step("await_parts", "repairing", "awaiting_parts", 30)
        step("parts_arrived", "awaiting_parts", "repairing", 36 * 60)
    step("finish", "repairing", "quality_check", 60)
    if rng.random() < 0.05:
        step("qc_fail", "quality_check", "repairing", 20)
        step("finish", "repairing", "quality_check", 40)
    step("qc_pass", "quality_check", "ready", 20)
    if channel == "mail_in":
        step("ship_back", "ready", "returning", 120)
        step("deliver", "returning", "delivered", 36 * 60)
    else:
        step("hand_over", "ready", "delivered", 600)
    return events, received, t


def build(n_tickets: int) -> None:  # noqa: C901 - a linear script
    started = time.monotonic()
    from django.contrib.auth import get_user_model

    from centers.models import Region, ServiceCenter
    from centers.services import regions_load, service_days_generate
    from warranty.models import DeviceModel, PlanProduct

    assert settings.IS_POSTGRES, "the benchmark runs on PostgreSQL"
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM repairs_repairticket")
        if cur.fetchone()[0]:
            sys.exit("sh_ops_bench already has tickets: drop and re-create the database to rebuild.")
    if not Region.objects.exists():
        regions_load()
    with connection.cursor() as cur:
        # The generated rows are consistent by construction: skip the per-row foreign-key
        # triggers while loading (superuser only; this session only). Check constraints,
        # unique and partial unique indexes still apply.
        cur.execute("SET session_replication_role = replica")
    log(f"regions: {Region.objects.count()}", started)

    # --- centers -------------------------------------------------------------------------
    counties = list(
        Region.objects.filter(
            level="county", is_placeholder=False, parent__isnull=False, parent__parent__isnull=False
        ).values_list("pk", "parent_id", "parent__parent_id", "lat", "lng")
    )
    centers_rows = []
    for i in range(3000):
        county = counties[R.randrange(len(counties))] if i >= len(counties) // 2 else counties[(i * 2) % len(counties)]
        kind = "service_center" if i < 2400 else "collection_point"
        centers_rows.append(
            (
                i + 1,
                f"BC{i + 1:05d}",
                f"Center {i + 1}",
                kind,
                "t",
                f"Road {i}",
                county[3] or 30.0,
                county[4] or 120.0,
                f"021-{i:08d}",
                f"{i:08d}",
                '["phone","walk_in","appointment","loaners"]',
                "2020-01-01",
                "t",
                "f",
                ts(NOW),
                ts(NOW),
                county[0],
                county[1],
                county[2],
            )
        )
    copy(
        "centers_servicecenter",
        [
            "id",
            "code",
            "name",
            "kind",
            "official",
            "address",
            "lat",
            "lng",
            "phone",
            "phone_digits",
            "services",
            "opened_on",
            "active",
            "service_days_opt_out",
            "created_at",
            "updated_at",
            "region_id",
            "city_id",
            "province_id",
        ],
        centers_rows,
    )
    reset_sequences(["centers_servicecenter"])
    repairing = [r[0] for r in centers_rows if r[3] == "service_center"]
    log(f"centers: {len(centers_rows)}", started)

    # --- catalog, devices, customers ----------------------------------------------------------
    models_ = [
        DeviceModel.objects.get_or_create(
            code=f"BM{i:02d}",
            defaults={"name": f"Bench {i}", "category": "phone", "tier": "flagship" if i < 8 else "standard"},
        )[0]
        for i in range(20)
    ]
    model_ids = [m.pk for m in models_]
    flagship_models = [m.pk for m in models_ if m.tier == "flagship"]
    standard_models = [m.pk for m in models_ if m.tier == "standard"]
    n_devices = max(1000, int(n_tickets * 0.9))
    copy(
        "warranty_device",
        ["id", "imei", "sold_at", "channel", "proof_of_purchase_note", "created_at", "model_id"],
        (
            (
                i,
                f"86{i:013d}",
                ts(NOW - dt.timedelta(minutes=R.randint(0, 730 * 1440))),
                "retail",
                "",
                ts(NOW),
                model_ids[i % 20],
            )
            for i in range(1, n_devices + 1)
        ),
    )
    n_customers = max(1000, n_tickets // 2)
    names = "王李张刘陈杨黄赵吴周"
    copy(
        "repairs_customer",
        ["id", "name", "phone", "email", "language", "contact_consent", "created_at"],
        (
            (i, f"{names[i % 10]}小{names[(i // 10) % 10]}", f"+86138{i:08d}", "", "zh-hans", "t", ts(NOW))
            for i in range(1, n_customers + 1)
        ),
    )
    reset_sequences(["warranty_device", "repairs_customer"])
    log(f"devices {n_devices}, customers {n_customers}", started)

    # --- staff ------------------------------------------------------------------------------------
    User = get_user_model()
    first_user = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    users, members, certs = [], [], []
    engineers_by_center: dict[int, list[int]] = {}
    uid = first_user
    for c in repairing:
        for role in ["front_desk", "front_desk", "engineer", "engineer", "engineer", "engineer", "engineer", "manager"]:
            users.append((uid, "!", "f", f"bench{uid}", "", "", "", "t", "t", ts(NOW)))
            members.append((uid, role, "t", ts(NOW), c, uid))
            if role == "engineer":
                engineers_by_center.setdefault(c, []).append(uid)
                if R.random() < 0.8:
                    certs.append(
                        (
                            uid,
                            "Repair engineer",
                            f"BCERT{uid}",
                            "2025-01-01",
                            "2027-12-31" if R.random() < 0.95 else "2025-12-31",
                            uid,
                        )
                    )
            uid += 1
    copy(
        "auth_user",
        [
            "id",
            "password",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
        ],
        users,
    )
    copy("centers_staffmembership", ["id", "role", "active", "created_at", "center_id", "user_id"], members)
    copy("centers_certification", ["id", "name", "number", "issued_on", "expires_on", "user_id"], certs)
    reset_sequences(["auth_user", "centers_staffmembership", "centers_certification"])
    log(f"staff {len(users)}, certifications {len(certs)}", started)

    # --- tickets and timelines ----------------------------------------------------------------------
    created_list = sorted(NOW - dt.timedelta(seconds=R.randint(0, 365 * 86400)) for _ in range(n_tickets))
    ticket_cols = [
        "id",
        "service_no",
        "channel",
        "fault_category",
        "fault_description",
        "accessories",
        "appearance_notes",
        "repair_mode_enabled",
        "data_backup_consent",
        "needs",
        "status",
        "created_at",
        "updated_at",
        "stage_started_at",
        "stage_due_at",
        "received_at",
        "delivered_at",
        "closed_at",
        "cancelled_at",
        "ready_at",
        "center_id",
        "customer_id",
        "device_id",
        "engineer_id",
    ]
    event_cols = ["id", "action", "from_status", "to_status", "actor_label", "note", "at", "ticket_id", "time_in_stage"]
    tickets_out: list[tuple] = []
    events_out: list[tuple] = []
    surveys_out: list[tuple] = []
    appts_out: list[tuple] = []
    recent: list[tuple[int, str]] = []  # (device, fault) of recent deliveries, for repeat repairs
    event_id = 0
    counts = {"tickets": 0, "events": 0, "surveys": 0, "appointments": 0}

    def flush():
        counts["tickets"] += copy("repairs_repairticket", ticket_cols, tickets_out)
        counts["events"] += copy("repairs_ticketevent", event_cols, events_out)
        counts["surveys"] += copy(
            "booking_survey",
            [
                "id",
                "overall",
                "staff",
                "speed",
                "quality",
                "comment",
                "created_at",
                "center_id",
                "engineer_id",
                "ticket_id",
                "recommend",
            ],
            surveys_out,
        )
        counts["appointments"] += copy(
            "booking_appointment",
            [
                "id",
                "start",
                "end",
                "issue",
                "needs",
                "status",
                "reschedule_count",
                "created_at",
                "updated_at",
                "center_id",
                "customer_id",
                "device_id",
                "ticket_id",
            ],
            appts_out,
        )
        tickets_out.clear(), events_out.clear(), surveys_out.clear(), appts_out.clear()

    for tid, created in enumerate(created_list, start=1):
        rng = R
        center = (
            repairing[int(rng.paretovariate(1.2)) % len(repairing)] if rng.random() < 0.3 else rng.choice(repairing)
        )
        channel = rng.choice(CHANNELS)
        if recent and rng.random() < 0.03:
            device, fault = recent[rng.randrange(len(recent))]
        else:
            device, fault = rng.randint(1, n_devices), rng.choice(FAULTS)
        customer = rng.randint(1, n_customers)
        engineer = rng.choice(engineers_by_center[center])
        evs, received, delivered = timeline(created, channel, rng)
        status, stage_started, due, closed, cancelled, ready = "delivered", None, None, None, None, None
        if rng.random() < 0.02:  # cancelled at diagnosis
            evs = evs[:2] + [("cancel", evs[1][2], "cancelled", evs[1][3] + dt.timedelta(minutes=30))]
            status, cancelled, delivered = "cancelled", evs[-1][3], None
        elif delivered > NOW:  # still open: cut the path at now
            evs = [e for e in evs if e[3] <= NOW]
            if not evs:
                evs = [("check_in", "", "received", created)]
            status = evs[-1][2]
            if status == "booked":
                received = None
            stage_started = evs[-1][3]
            due = stage_started + dt.timedelta(minutes=SLA.get(status, 60))
            delivered = None
        else:
            if delivered < NOW - dt.timedelta(days=7):
                status, closed = "closed", delivered + dt.timedelta(days=7)
                evs.append(("close", "delivered", "closed", closed))
            recent.append((device, fault))
            if len(recent) > 5000:
                recent.pop(0)
            if rng.random() < 0.3:
                surveys_out.append(
                    (
                        tid,
                        rng.choice([5, 5, 5, 4, 4, 3, 2]),
                        rng.choice([5, 5, 4, 4, 3]),
                        rng.choice([5, 4, 4, 3]),
                        rng.choice([5, 5, 4, 3]),
                        "",
                        ts(delivered + dt.timedelta(hours=5)),
                        center,
                        engineer,
                        tid,
                        # 0-10 recommendation on 80% of the surveys (the question is optional)
                        rng.choice([10, 10, 9, 9, 8, 7, 6, 3]) if rng.random() < 0.8 else NULL,
                    )
                )
        for e in evs:
            if e[2] == "ready":
                ready = e[3]
        last_at = evs[-1][3]
        tickets_out.append(
            (
                tid,
                f"SH{tid:012d}",
                channel,
                fault,
                "",
                "[]",
                "",
                "f",
                "f",
                "{}",
                status,
                ts(created),
                ts(last_at),
                ts(stage_started or last_at),
                ts(due),
                ts(received),
                ts(delivered),
                ts(closed),
                ts(cancelled),
                ts(ready),
                center,
                customer,
                device,
                engineer,
            )
        )
        previous_at = None
        for action, frm, to, at in evs:
            event_id += 1
            # As repairs.services writes it: how long the ticket was in ``frm`` (since the previous event).
            in_stage = f"{(at - previous_at).total_seconds():.0f} seconds" if frm and previous_at else NULL
            events_out.append((event_id, action, frm, to, "bench", "", ts(at), tid, in_stage))
            previous_at = at
        if channel == "appointment":
            start = evs[1][3] if len(evs) > 1 else created + dt.timedelta(hours=2)
            appts_out.append(
                (
                    tid,
                    ts(start),
                    ts(start + dt.timedelta(minutes=30)),
                    "bench",
                    "{}",
                    "booked" if status != "cancelled" else "cancelled",
                    0,
                    ts(created),
                    ts(created),
                    center,
                    customer,
                    device,
                    tid,
                )
            )
        if len(tickets_out) >= CHUNK:
            flush()
            log(f"tickets {counts['tickets']:,}, events {counts['events']:,}", started)
    flush()
    reset_sequences(["repairs_repairticket", "repairs_ticketevent", "booking_survey", "booking_appointment"])
    log(f"tickets {counts}", started)

    # --- loaners, loans, deposits --------------------------------------------------------------------
    loaner_rows, loan_rows, entry_rows = [], [], []
    loaner_id = 0
    loaners_at: dict[int, list[tuple[int, str]]] = {}
    for c in repairing:
        for k in range(8):  # 19,200 loaners: half flagship
            loaner_id += 1
            tier = "flagship" if k % 2 == 0 else "standard"
            model = R.choice(flagship_models if tier == "flagship" else standard_models)
            loaners_at.setdefault(c, []).append((loaner_id, tier))
            loaner_rows.append(
                [
                    loaner_id,
                    f"35{loaner_id:013d}",
                    "good",
                    "available",
                    '["charger"]',
                    "4999.00",
                    ts(NOW),
                    "f",
                    ts(NOW),
                    ts(NOW),
                    c,
                    c,
                    model,
                ]
            )
    loan_id = entry_id = 0
    open_ticket = 0  # open loans need distinct tickets (one open loan per ticket)
    for c in repairing:
        for lid, tier in loaners_at[c]:
            t = NOW - dt.timedelta(days=365)
            while True:
                t += dt.timedelta(hours=R.randint(24 * 5, 24 * 40))
                if t >= NOW:
                    break
                out_days = R.randint(1, 6)
                due = t + dt.timedelta(days=5)
                back = t + dt.timedelta(days=out_days)
                loan_id += 1
                deposit = "2000.00" if tier == "flagship" else "800.00"
                ticket = R.randint(1, n_tickets)
                if back > NOW:  # still out (overdue when past due)
                    open_ticket += 1
                    ticket = open_ticket
                    status = "overdue" if due < NOW else "out"
                    loan_rows.append(
                        (
                            loan_id,
                            tier,
                            status,
                            ts(t),
                            ts(due),
                            NULL,
                            "good",
                            "",
                            "[]",
                            ts(t),
                            "cash",
                            "",
                            deposit,
                            "f",
                            "50.00",
                            deposit,
                            "0.00",
                            "0.00",
                            "0.00",
                            ts(t),
                            ts(t),
                            c,
                            R.randint(1, n_customers),
                            ticket,
                            lid,
                        )
                    )
                    loaner_rows[lid - 1][3] = "out"
                    entry_id += 1
                    entry_rows.append(
                        (entry_id, 1, "hold", deposit, "0.00", deposit, "", "", "cash", "", ts(t), "bench", c, loan_id)
                    )
                    break
                loan_rows.append(
                    (
                        loan_id,
                        tier,
                        "returned",
                        ts(t),
                        ts(due),
                        ts(back),
                        "good",
                        "ok",
                        "[]",
                        ts(t),
                        "cash",
                        "",
                        deposit,
                        "f",
                        "50.00",
                        deposit,
                        deposit,
                        "0.00",
                        "0.00",
                        ts(t),
                        ts(back),
                        c,
                        R.randint(1, n_customers),
                        ticket,
                        lid,
                    )
                )
                entry_id += 1
                entry_rows.append(
                    (entry_id, 1, "hold", deposit, "0.00", deposit, "", "", "cash", "", ts(t), "bench", c, loan_id)
                )
                entry_id += 1
                entry_rows.append(
                    (entry_id, 2, "refund", deposit, deposit, "0.00", "", "", "cash", "", ts(back), "bench", c, loan_id)
                )
                t = back
    copy(
        "loaners_loaner",
        [
            "id",
            "imei",
            "condition",
            "status",
            "accessories",
            "replacement_value",
            "last_wiped_at",
            "needs_wipe",
            "created_at",
            "updated_at",
            "current_center_id",
            "home_center_id",
            "model_id",
        ],
        loaner_rows,
    )
    copy(
        "loaners_loan",
        [
            "id",
            "tier",
            "status",
            "out_at",
            "due_at",
            "returned_at",
            "condition_out",
            "condition_in",
            "accessories_out",
            "terms_accepted_at",
            "payment_method",
            "payment_reference",
            "deposit",
            "deposit_waived",
            "late_fee_per_day",
            "held",
            "refunded",
            "deducted",
            "balance_due",
            "created_at",
            "updated_at",
            "center_id",
            "customer_id",
            "ticket_id",
            "loaner_id",
        ],
        loan_rows,
    )
    copy(
        "loaners_depositentry",
        [
            "id",
            "seq",
            "kind",
            "amount",
            "from_deposit",
            "balance_after",
            "deduction_kind",
            "reason",
            "payment_method",
            "reference",
            "at",
            "actor_label",
            "center_id",
            "loan_id",
        ],
        entry_rows,
    )
    reset_sequences(["loaners_loaner", "loaners_loan", "loaners_depositentry"])
    log(f"loaners {len(loaner_rows)}, loans {len(loan_rows)}, deposit entries {len(entry_rows)}", started)

    # --- plans, callbacks, Service Days ------------------------------------------------------------
    products = []
    for code, kind, claims in (
        ("BEXT12", "extended_warranty", None),
        ("BSCR12", "screen_care", 1),
        ("BCARE24", "care_plus", 2),
        ("BBAT12", "battery_care", 1),
    ):
        products.append(
            PlanProduct.objects.get_or_create(
                code=code, defaults={"name": code, "kind": kind, "term_months": 12, "claims_allowed": claims}
            )[0].pk
        )
    n_plans = n_devices // 5
    plan_rows = []
    for i in range(1, n_plans + 1):
        bought = NOW - dt.timedelta(minutes=R.randint(0, 730 * 1440))
        plan_rows.append(
            (
                i,
                ts(bought),
                bought.date().isoformat(),
                (bought.date() + dt.timedelta(days=365)).isoformat(),
                "99.00",
                "store",
                "active" if R.random() < 0.95 else "refunded",
                NULL,
                0,
                ts(bought),
                R.choice(repairing),
                i,
                R.choice(products),
            )
        )  # device i: one active purchase per device
    copy(
        "warranty_planpurchase",
        [
            "id",
            "purchased_at",
            "starts_on",
            "ends_on",
            "price_paid",
            "channel",
            "status",
            "claims_allowed",
            "claims_used",
            "created_at",
            "center_id",
            "device_id",
            "product_id",
        ],
        plan_rows,
    )
    copy(
        "booking_callbackrequest",
        ["id", "name", "phone", "topic", "preferred_window", "note", "language", "status", "created_at"],
        (
            (
                i,
                "王小明",
                f"+86137{i:08d}",
                "repair",
                "morning",
                "",
                "zh-hans",
                "open" if R.random() < 0.02 else "done",
                ts(NOW - dt.timedelta(minutes=R.randint(0, 365 * 1440))),
            )
            for i in range(1, 50_001)
        ),
    )
    reset_sequences(["warranty_planpurchase", "booking_callbackrequest"])
    local = timezone.localtime(NOW)
    days = service_days_generate(year=local.year, month=local.month)
    log(f"plan purchases {n_plans}, callbacks 50000, service days {days}", started)

    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = DEFAULT")
        # VACUUM sets the visibility map, which index-only scans need (a database that has run
        # for a while has it from autovacuum); ANALYZE gives the planner the new row counts.
        cur.execute("VACUUM (ANALYZE)")
    log("vacuumed and analyzed; done", started)
    _ = ServiceCenter  # imported for clarity of what the first block writes


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    build(parser.parse_args().tickets)
