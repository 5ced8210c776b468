"""Scheduled jobs' plumbing: once per period (JobRun), safe after a crash; the beat schedule collected from the apps."""

import ast
import datetime as dt
import importlib
from pathlib import Path

import pytest
from celery.app.routes import MapRoute
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from servicehub import jobs, schedules
from servicehub.celery import app as celery_app
from servicehub.models import JobRun

# --- JobRun -----------------------------------------------------------------


def test_a_second_runner_for_the_same_period_gets_nothing(db):
    first = jobs.job_run_claim(job="j", period="2026-12")
    assert first is not None
    assert jobs.job_run_claim(job="j", period="2026-12") is None
    assert jobs.job_run_claim(job="j", period="2027-01") is not None


def test_a_finished_run_is_not_run_again(db):
    run = jobs.job_run_claim(job="j", period="p")
    assert jobs.job_run_finish(run=run, result={"n": 1})
    assert jobs.job_run_claim(job="j", period="p") is None
    run.refresh_from_db()
    assert (run.status, run.result) == ("succeeded", {"n": 1})


def test_a_crashed_run_is_taken_over_after_its_lease(db, settings):
    settings.JOBS_RUN_LEASE_SECONDS = 60
    t0 = timezone.now()
    crashed = jobs.job_run_claim(job="j", period="p", now=t0)
    assert jobs.job_run_claim(job="j", period="p", now=t0 + dt.timedelta(seconds=59)) is None
    again = jobs.job_run_claim(job="j", period="p", now=t0 + dt.timedelta(seconds=61))
    assert again is not None and again.pk == crashed.pk
    assert again.attempts == 2
    # the crashed runner, coming back to life, cannot record its outcome over the new owner's
    assert jobs.job_run_finish(run=crashed, result={"late": True}) is False
    assert jobs.job_run_finish(run=again, result={"ok": True}) is True


def test_a_failed_run_records_the_error_and_may_run_again(db):
    def boom():
        raise ValueError("centers service down")

    with pytest.raises(ValueError):
        jobs.run_job("j", "p", boom)
    run = JobRun.objects.get(job="j", period="p")
    assert run.status == "failed"
    assert run.error == "ValueError: centers service down"
    assert jobs.run_job("j", "p", lambda: {"ok": 1}) == {"ok": 1}
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error) == ("succeeded", 2, "")


def test_run_job_twice_for_one_period_does_the_work_once(db):
    calls = []
    assert jobs.run_job("j", "2026-12", lambda: calls.append(1) or {"n": len(calls)}) == {"n": 1}
    assert jobs.run_job("j", "2026-12", lambda: calls.append(1) or {"n": len(calls)}) is None
    assert calls == [1]


def test_the_job_runs_keep_their_table():
    # The model moved from notifications (issue #18) without moving data.
    assert JobRun._meta.db_table == "notifications_jobrun"


def test_slot_period_floors_to_the_slot():
    at = timezone.make_aware(dt.datetime(2026, 11, 25, 10, 7, 31))
    assert jobs.slot_period(at, 5) == "2026-11-25T10:05"
    assert jobs.slot_period(at, 15) == "2026-11-25T10:00"


# --- schedules ----------------------------------------------------------------


def schedule_names():
    return [s["name"] for s in schedules.schedule_definitions()]


def test_setup_schedules_is_idempotent_and_keeps_admin_edits(db):
    call_command("setup_schedules")
    count = PeriodicTask.objects.count()
    assert count == len(schedule_names())
    sla = PeriodicTask.objects.get(name="repairs: SLA watch")
    sla.enabled = False
    sla.save()
    call_command("setup_schedules")
    assert PeriodicTask.objects.count() == count
    assert PeriodicTask.objects.get(name="repairs: SLA watch").enabled is False
    call_command("setup_schedules", "--reset")
    assert PeriodicTask.objects.get(name="repairs: SLA watch").enabled is True
    sd = PeriodicTask.objects.get(name="centers: generate next month's Service Days")
    assert (sd.crontab.day_of_month, sd.crontab.hour, str(sd.crontab.timezone)) == ("20", "2", "Asia/Shanghai")


def _old_row(name, task, *, enabled=True, every=300):
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(name=name, task=task, interval=interval, enabled=enabled)


def test_setup_schedules_renames_the_rows_of_moved_jobs_keeping_their_edits(db):
    # A database deployed before the jobs moved out of notifications: rows under the old names.
    old_sla = _old_row("jobs: SLA watch", "jobs.sla_watch", enabled=False, every=600)
    _old_row("jobs: loaners overdue", "jobs.loaners_overdue")
    call_command("setup_schedules")
    assert not PeriodicTask.objects.filter(name__startswith="jobs: ").exists()
    moved = PeriodicTask.objects.get(name="repairs: SLA watch")
    assert moved.pk == old_sla.pk
    assert (moved.enabled, moved.interval.every) == (False, 600)  # the admin's edits survive the rename
    assert PeriodicTask.objects.filter(task="jobs.loaners_overdue").count() == 1
    assert PeriodicTask.objects.count() == len(schedule_names())


def test_an_old_row_next_to_its_new_one_is_removed_so_the_task_does_not_fire_twice(db):
    call_command("setup_schedules")
    _old_row("jobs: survey invitations", "jobs.survey_invitations")
    call_command("setup_schedules")
    assert list(PeriodicTask.objects.filter(task="jobs.survey_invitations").values_list("name", flat=True)) == [
        "booking: survey invitations"
    ]


def test_rows_of_a_retired_task_are_repointed_or_removed(db, monkeypatch):
    monkeypatch.setattr(
        schedules, "RETIRED_TASKS", {"notifications.old_sweep": "notifications.sweep", "jobs.gone": None}
    )
    _old_row("staff-made: gone", "jobs.gone")
    _old_row("staff-made: old sweep", "notifications.old_sweep")
    call_command("setup_schedules")
    assert not PeriodicTask.objects.filter(task__in=["jobs.gone", "notifications.old_sweep"]).exists()
    # the successor already had its row: the duplicate went rather than firing the sweep twice
    assert PeriodicTask.objects.filter(task="notifications.sweep").count() == 1


def test_a_retired_task_without_a_row_for_its_successor_is_repointed(db, monkeypatch):
    monkeypatch.setattr(schedules, "RETIRED_TASKS", {"jobs.old_name": "jobs.new_name"})
    row = _old_row("staff-made: renamed task", "jobs.old_name")
    call_command("setup_schedules")
    row.refresh_from_db()
    assert row.task == "jobs.new_name"


def test_every_scheduled_task_is_registered_with_celery():
    celery_app.loader.import_default_modules()
    missing = [s["task"] for s in schedules.schedule_definitions() if s["task"] not in celery_app.tasks]
    assert missing == []


def test_the_jobs_are_scheduled_by_the_apps_whose_rule_they_apply():
    owners = {}
    for app in (
        "servicehub",
        "centers",
        "partners",
        "warranty",
        "repairs",
        "loaners",
        "notifications",
        "booking",
        "outreach",
    ):
        module = importlib.import_module(f"{app}.tasks")
        for spec in getattr(module, "schedules", list)():
            owners[spec["task"]] = app
    assert owners == {
        "servicehub.outbox_sweep": "servicehub",
        "jobs.service_days_generate": "centers",
        "partners.tasks.webhook_deliveries_sweep": "partners",
        "partners.tasks.idempotency_records_purge": "partners",
        "warranty.tasks.plan_purchases_expire": "warranty",
        "jobs.sla_watch": "repairs",
        "jobs.express_watch": "repairs",
        "jobs.tickets_auto_close": "repairs",
        "jobs.service_day_reminders": "repairs",
        "jobs.loaners_due_tomorrow": "loaners",
        "jobs.loaners_overdue": "loaners",
        "jobs.amenity_overdue_reminders": "loaners",
        "notifications.sweep": "notifications",
        "jobs.appointment_reminders": "booking",
        "jobs.appointment_no_shows": "booking",
        "jobs.survey_invitations": "booking",
        "jobs.plan_orders_abandon": "booking",
        "jobs.event_reminders": "outreach",
        "jobs.sign_sessions_close": "outreach",
    }
    assert set(owners) == {s["task"] for s in schedules.schedule_definitions()}


def test_every_job_task_is_routed_to_the_jobs_queue(settings):
    celery_app.loader.import_default_modules()
    route = MapRoute(settings.CELERY_SPLIT_ROUTES)
    job_tasks = sorted(name for name in celery_app.tasks if name.startswith("jobs."))
    # + express_watch (#21), plan_orders_abandon (web plan orders), event_reminders, sign_sessions_close,
    # amenity_overdue_reminders (#22)
    assert len(job_tasks) == 14
    assert {name: (route(name) or {}).get("queue") for name in job_tasks} == dict.fromkeys(job_tasks, "jobs")


# --- the layers ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _imported_top_level(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "module", ["servicehub/jobs.py", "centers/jobs.py", "repairs/jobs.py", "loaners/jobs.py", "booking/jobs.py"]
)
def test_a_job_never_imports_a_reaction(module):
    # Messages and webhooks are subscribers to the jobs' events (notifications.reminders, partners.job_subscribers).
    assert _imported_top_level(ROOT / module) & {"notifications", "partners", "web", "ops"} == set()
