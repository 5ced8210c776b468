"""Indexes for the HQ figures once stage visits carry their length (repairs 0004, filled by 0005).

Measured at 1M tickets / 8.1M timeline events (docs/performance.md, Operations):

- ``ops_event_stage_visit_idx`` -- SLA compliance by stage is now a plain aggregate over the
  events that left a stage in the period; this index holds all it reads (``from_status, at``
  plus ``time_in_stage`` and ``ticket_id`` for a center scope's join), so the network figure
  is an index-only scan: 1.7 s -> 75 ms. Replaces ``ops_event_from_at_idx`` (same keys).
- ``ops_event_qc_fail_idx`` -- QC first pass asks, for each pass, "did this ticket fail QC
  before?"; QC fails are ~5% of tickets, so a partial index of just them answers each probe
  without reading the ticket's other events: 310 ms -> 60 ms.
- ``ops_ticket_repeat_idx`` -- first-time fix looks for a later *non-cancelled* ticket of the
  same device and fault; with the status condition in the index predicate the probe is
  index-only and the planner keeps the nested-loop semi-join instead of hashing every
  ticket. Replaces ``ops_ticket_device_fault_idx`` (same keys, no predicate).

PostgreSQL builds them ``CONCURRENTLY`` (the migration is not atomic), so a live timeline keeps
taking writes. SQLite has no ``INCLUDE``: the included columns become trailing key columns,
which covers the same reads.
"""

from django.db import migrations

# (name, table, PostgreSQL definition, other databases' definition)
CREATE = [
    (
        "ops_event_stage_visit_idx",
        "repairs_ticketevent",
        "(from_status, at) INCLUDE (time_in_stage, ticket_id)",
        "(from_status, at, time_in_stage, ticket_id)",
    ),
    (
        "ops_event_qc_fail_idx",
        "repairs_ticketevent",
        "(ticket_id, at) WHERE from_status = 'quality_check' AND to_status = 'repairing'",
        "(ticket_id, at) WHERE from_status = 'quality_check' AND to_status = 'repairing'",
    ),
    (
        "ops_ticket_repeat_idx",
        "repairs_repairticket",
        "(device_id, fault_category, created_at) WHERE status <> 'cancelled'",
        "(device_id, fault_category, created_at) WHERE status <> 'cancelled'",
    ),
]
# Indexes of 0002 that the ones above replace: (name, table, columns).
REPLACED = [
    ("ops_event_from_at_idx", "repairs_ticketevent", "from_status, at"),
    ("ops_ticket_device_fault_idx", "repairs_repairticket", "device_id, fault_category, created_at"),
]


def _concurrently(schema_editor) -> str:
    return " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""


def forwards(apps, schema_editor):
    how = _concurrently(schema_editor)
    pg = schema_editor.connection.vendor == "postgresql"
    for name, table, pg_definition, definition in CREATE:
        schema_editor.execute(
            f"CREATE INDEX{how} IF NOT EXISTS {name} ON {table} {pg_definition if pg else definition}"
        )
    for name, _table, _columns in REPLACED:
        schema_editor.execute(f"DROP INDEX{how} IF EXISTS {name}")


def backwards(apps, schema_editor):
    how = _concurrently(schema_editor)
    for name, table, columns in REPLACED:
        schema_editor.execute(f"CREATE INDEX{how} IF NOT EXISTS {name} ON {table} ({columns})")
    for name, _table, _pg, _other in CREATE:
        schema_editor.execute(f"DROP INDEX{how} IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ops", "0002_reporting_indexes"),
        # After the backfill: building the index first would make every backfilled row update it.
        ("repairs", "0005_backfill_time_in_stage"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
