# IdempotencyRecord moves from partners to servicehub (the API plumbing owns it; issue #18).
# State only: the table partners_idempotencyrecord stays where it is, with its rows, index and constraint.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('servicehub', '0002_h18_jobs_jobrun'),
        # The table was created (and last altered) by partners; take it over after that.
        ('partners', '0005_schema_webhook_deleted_at'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='IdempotencyRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('holder', models.CharField(max_length=100, verbose_name='holder')),
                        ('key', models.CharField(max_length=255, verbose_name='key')),
                        ('request_hash', models.CharField(max_length=64, verbose_name='request hash')),
                        ('method', models.CharField(max_length=8, verbose_name='method')),
                        ('path', models.CharField(max_length=500, verbose_name='path')),
                        ('in_flight', models.BooleanField(default=True, verbose_name='in flight')),
                        ('response_status', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='response status')),
                        ('response_body', models.BinaryField(blank=True, null=True, verbose_name='response body')),
                        ('content_type', models.CharField(blank=True, max_length=100, verbose_name='content type')),
                        ('created_at', models.DateTimeField(verbose_name='created at')),
                        ('expires_at', models.DateTimeField(db_index=True, verbose_name='expires at')),
                    ],
                    options={
                        'verbose_name': 'idempotency record',
                        'verbose_name_plural': 'idempotency records',
                        'db_table': 'partners_idempotencyrecord',
                        'constraints': [models.UniqueConstraint(fields=('holder', 'key'), name='idempotency_unique_holder_key')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
