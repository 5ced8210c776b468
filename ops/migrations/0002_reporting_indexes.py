"""Indexes the operations figures need on other apps' tables (reads only; see docs/ops.md).

They are plain ``CREATE INDEX IF NOT EXISTS`` statements (valid on PostgreSQL and SQLite) so
the owning apps' model state is untouched; if an owning app later declares an equivalent
index, drop the one here in a new migration. Without them the HQ figures scan the whole
ticket / device / survey tables for every period filter (docs/performance.md, Operations).
"""

from django.db import migrations

INDEXES = [
    # Turnaround p50/p90, trend and first-time-fix select the tickets delivered in a period;
    # the extra columns let PostgreSQL answer the turnaround queries from the index alone.
    ("ops_ticket_delivered_idx", "repairs_repairticket", "delivered_at, center_id, channel, received_at"),
    # First-time fix: "another ticket for this device and fault opened within 90 days".
    ("ops_ticket_device_fault_idx", "repairs_repairticket", "device_id, fault_category, created_at"),
    # Front desk "received today".
    ("ops_ticket_received_idx", "repairs_repairticket", "received_at"),
    # QC first pass and SLA by stage: timeline rows leaving a stage within a period.
    ("ops_event_from_at_idx", "repairs_ticketevent", "from_status, at"),
    # Plan attach rate: devices sold and plans bought within a period.
    ("ops_device_sold_idx", "warranty_device", "sold_at"),
    ("ops_purchase_bought_idx", "warranty_planpurchase", "purchased_at"),
    # CSAT / NPS and the monthly service-star ranking.
    ("ops_survey_created_idx", "booking_survey", "created_at, center_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_initial"),
        ("repairs", "0002_sla_catalog_quotes"),
        ("warranty", "0002_policies_plans_claims"),
        ("booking", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, columns in INDEXES
    ]
