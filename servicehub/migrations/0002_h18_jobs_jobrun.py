# The JobRun model moves from notifications to servicehub (issue #18); its table stays notifications_jobrun,
# so no data moves. State only, plus the content type follows the model (permissions and admin log entries).

import uuid

import django.core.serializers.json
from django.db import migrations, models


def content_type_follows(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="servicehub", model="jobrun").exists():
        ContentType.objects.filter(app_label="notifications", model="jobrun").update(app_label="servicehub")


def content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="notifications", model="jobrun").exists():
        ContentType.objects.filter(app_label="servicehub", model="jobrun").update(app_label="notifications")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("servicehub", "0001_outbox"),
        # The table is created there; this state must not describe it before it exists.
        ("notifications", "0004_message_kinds"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="JobRun",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("job", models.CharField(max_length=64, verbose_name="job")),
                        ("period", models.CharField(max_length=32, verbose_name="period")),
                        (
                            "status",
                            models.CharField(
                                choices=[("running", "Running"), ("succeeded", "Succeeded"), ("failed", "Failed")],
                                default="running",
                                max_length=16,
                                verbose_name="status",
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=1, verbose_name="attempts")),
                        ("claim_token", models.UUIDField(default=uuid.uuid4, editable=False, verbose_name="claim token")),
                        ("started_at", models.DateTimeField(verbose_name="started")),
                        ("lease_until", models.DateTimeField(verbose_name="lease until")),
                        ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished")),
                        (
                            "result",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                encoder=django.core.serializers.json.DjangoJSONEncoder,
                                verbose_name="result",
                            ),
                        ),
                        ("error", models.TextField(blank=True, verbose_name="error")),
                    ],
                    options={
                        "verbose_name": "job run",
                        "verbose_name_plural": "job runs",
                        "db_table": "notifications_jobrun",
                        "ordering": ["-started_at", "-pk"],
                        "constraints": [
                            models.UniqueConstraint(fields=("job", "period"), name="jobrun_unique_job_period")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_follows, content_type_back),
    ]
