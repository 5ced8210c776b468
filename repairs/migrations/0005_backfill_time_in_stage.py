"""Fill ``TicketEvent.time_in_stage`` (repairs 0004) for the timeline rows written before it existed.

The backfill pairs every event with the previous event of the same ticket (by time, then id):
the time between them is how long the ticket stayed in the event's ``from_status``. New events
get it from the service (``repairs.services._event``), which reads the locked ticket's
``stage_started_at`` -- the same instant, because every move sets both in one transaction.

PostgreSQL: one ``LAG()`` window UPDATE per batch of tickets, each batch its own transaction
(the migration is not atomic), so a large timeline is not rewritten in one long transaction;
measured at ~8.1M events in docs/performance.md (Operations). It only fills rows that are still
empty, so if it is interrupted, running ``migrate`` again carries on. Other databases (SQLite,
the embedded demo): the same pairing in Python.
"""

from django.db import migrations

BATCH_TICKETS = 50_000

PG_BATCH = """
    UPDATE repairs_ticketevent e
       SET time_in_stage = e.at - p.prev_at
      FROM (
            SELECT id, LAG(at) OVER (PARTITION BY ticket_id ORDER BY at, id) AS prev_at
              FROM repairs_ticketevent
             WHERE ticket_id >= %s AND ticket_id < %s
           ) p
     WHERE p.id = e.id
       AND p.prev_at IS NOT NULL
       AND e.from_status <> ''
       AND e.time_in_stage IS NULL
"""


def backfill(apps, schema_editor):
    TicketEvent = apps.get_model("repairs", "TicketEvent")
    db = schema_editor.connection.alias
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT MIN(ticket_id), MAX(ticket_id) FROM repairs_ticketevent")
            low, high = cursor.fetchone()
            if low is None:
                return
            for start in range(low, high + 1, BATCH_TICKETS):
                cursor.execute(PG_BATCH, [start, start + BATCH_TICKETS])
        return
    # Read everything first: SQLite gives no isolation between a cursor and writes to its table.
    rows = list(
        TicketEvent.objects.using(db)
        .order_by("ticket_id", "at", "pk")
        .values_list("pk", "ticket_id", "from_status", "at", "time_in_stage")
    )
    changed, previous = [], None  # previous: (ticket_id, at)
    for pk, ticket_id, from_status, at, current in rows:
        if current is None and from_status and previous and previous[0] == ticket_id:
            changed.append(TicketEvent(pk=pk, time_in_stage=at - previous[1]))
        previous = (ticket_id, at)
        if len(changed) >= 2000:
            TicketEvent.objects.using(db).bulk_update(changed, ["time_in_stage"])
            changed = []
    if changed:
        TicketEvent.objects.using(db).bulk_update(changed, ["time_in_stage"])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("repairs", "0004_ticketevent_time_in_stage"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
