"""Create (or, with --reset, restore) the beat schedule rows. Safe to run on every deploy."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from servicehub import schedules


class Command(BaseCommand):
    help = "Create the periodic tasks of the scheduled jobs (django-celery-beat rows, editable in the admin)."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Overwrite schedules edited in the admin.")

    @transaction.atomic
    def handle(self, *args, reset=False, **options):
        definitions = schedules.schedule_definitions()
        created = updated = renamed = removed = 0
        for spec in definitions:
            task = PeriodicTask.objects.filter(name=spec["name"]).first()
            # A row from before a move (e.g. "jobs: SLA watch" -> "repairs: SLA watch"): rename it in place,
            # so its admin edits survive; an old row next to a new one would fire the task twice.
            for old_name in spec.get("renamed_from", ()):
                old = PeriodicTask.objects.filter(name=old_name).first()
                if old is None:
                    continue
                if task is None:
                    old.name = spec["name"]
                    old.save()
                    task, renamed = old, renamed + 1
                else:
                    old.delete()
                    removed += 1
            defaults = {"task": spec["task"], "description": spec["description"], **self._schedule(spec)}
            if task is None:
                PeriodicTask.objects.create(name=spec["name"], enabled=True, **defaults)
                created += 1
            elif reset:
                for field, value in defaults.items():
                    setattr(task, field, value)
                task.enabled = True
                task.save()
                updated += 1
            elif task.task != spec["task"]:
                # Whatever was edited, the row must run the task that exists (a renamed task name).
                task.task = spec["task"]
                task.save()
                updated += 1
        for dead, successor in schedules.RETIRED_TASKS.items():
            for row in PeriodicTask.objects.filter(task=dead):
                if successor is None or PeriodicTask.objects.filter(task=successor).exists():
                    row.delete()
                    removed += 1
                else:
                    row.task = successor
                    row.save()
                    updated += 1
        left = len(definitions) - created - updated - renamed
        self.stdout.write(
            f"setup_schedules: {created} created, {renamed} renamed, {updated} updated, {removed} removed, "
            f"{max(left, 0)} left as they are"
        )

    @staticmethod
    def _schedule(spec: dict) -> dict:
        if "every_seconds" in spec:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=spec["every_seconds"], period=IntervalSchedule.SECONDS
            )
            return {"interval": interval, "crontab": None}
        cron = {
            "minute": "*",
            "hour": "*",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
            **spec["crontab"],
        }
        crontab, _ = CrontabSchedule.objects.get_or_create(timezone="Asia/Shanghai", **cron)
        return {"crontab": crontab, "interval": None}
