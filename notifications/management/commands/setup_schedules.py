"""Create (or, with --reset, restore) the beat schedule rows. Safe to run on every deploy."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from notifications.schedules import schedule_definitions


class Command(BaseCommand):
    help = "Create the periodic tasks of the scheduled jobs (django-celery-beat rows, editable in the admin)."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Overwrite schedules edited in the admin.")

    @transaction.atomic
    def handle(self, *args, reset=False, **options):
        created = updated = 0
        for spec in schedule_definitions():
            if "every_seconds" in spec:
                interval, _ = IntervalSchedule.objects.get_or_create(
                    every=spec["every_seconds"], period=IntervalSchedule.SECONDS
                )
                schedule = {"interval": interval, "crontab": None}
            else:
                cron = {
                    "minute": "*",
                    "hour": "*",
                    "day_of_week": "*",
                    "day_of_month": "*",
                    "month_of_year": "*",
                    **spec["crontab"],
                }
                crontab, _ = CrontabSchedule.objects.get_or_create(timezone="Asia/Shanghai", **cron)
                schedule = {"crontab": crontab, "interval": None}
            defaults = {"task": spec["task"], "description": spec["description"], **schedule}
            task = PeriodicTask.objects.filter(name=spec["name"]).first()
            if task is None:
                PeriodicTask.objects.create(name=spec["name"], enabled=True, **defaults)
                created += 1
            elif reset:
                for field, value in defaults.items():
                    setattr(task, field, value)
                task.enabled = True
                task.save()
                updated += 1
        self.stdout.write(
            f"setup_schedules: {created} created, {updated} reset, "
            f"{len(schedule_definitions()) - created - updated} left as they are"
        )
