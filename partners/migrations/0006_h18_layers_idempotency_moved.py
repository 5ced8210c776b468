# IdempotencyRecord now belongs to servicehub (servicehub 0003_h18_layers_idempotency); state only, the table stays.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('partners', '0005_schema_webhook_deleted_at'),
        ('servicehub', '0003_h18_layers_idempotency'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='IdempotencyRecord')],
            database_operations=[],
        ),
    ]
