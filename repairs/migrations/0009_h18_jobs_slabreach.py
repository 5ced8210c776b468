# The SlaBreach model moves from notifications to repairs (issue #18); its table stays notifications_slabreach,
# so no data moves. State only, plus the content type follows the model (permissions and admin log entries).

import django.db.models.deletion
from django.db import migrations, models


def content_type_follows(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="repairs", model="slabreach").exists():
        ContentType.objects.filter(app_label="notifications", model="slabreach").update(app_label="repairs")


def content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="notifications", model="slabreach").exists():
        ContentType.objects.filter(app_label="repairs", model="slabreach").update(app_label="notifications")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("repairs", "0008_journeys_service_quote_line_code"),
        # The table is created there; this state must not describe it before it exists.
        ("notifications", "0004_message_kinds"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SlaBreach",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("status", models.CharField(max_length=20, verbose_name="stage")),
                        ("stage_due_at", models.DateTimeField(verbose_name="stage due at")),
                        ("detected_at", models.DateTimeField(auto_now_add=True, verbose_name="detected at")),
                        (
                            "ticket",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="sla_breaches",
                                to="repairs.repairticket",
                                verbose_name="ticket",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "SLA breach",
                        "verbose_name_plural": "SLA breaches",
                        "db_table": "notifications_slabreach",
                        "ordering": ["-detected_at", "-pk"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("ticket", "status", "stage_due_at"), name="slabreach_once_per_stage"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_follows, content_type_back),
    ]
