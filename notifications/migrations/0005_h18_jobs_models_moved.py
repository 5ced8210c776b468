# JobRun moved to servicehub, SlaBreach to repairs (issue #18): gone from this app's state only; the tables
# (notifications_jobrun, notifications_slabreach) stay and now belong to the models in their new apps.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_message_kinds"),
        ("servicehub", "0002_h18_jobs_jobrun"),
        ("repairs", "0009_h18_jobs_slabreach"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="JobRun"),
                migrations.DeleteModel(name="SlaBreach"),
            ],
            database_operations=[],
        ),
    ]
