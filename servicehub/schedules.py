"""The beat schedule, as data, collected from the apps. ``manage.py setup_schedules`` writes it into
django-celery-beat's tables.

Each app declares the periodic tasks it owns next to the tasks themselves: a ``schedules()`` function in its
``tasks.py`` returning entries ``{"name", "task", "every_seconds" | "crontab": {...}, "description"}`` and,
for a row that was known under another name before, ``"renamed_from": [old names]``. A function, not a
constant, so entries may read settings when the command runs. Times are Asia/Shanghai (``CELERY_TIMEZONE``).

Staff edit the rows in the admin (Periodic tasks); ``setup_schedules`` creates missing rows, renames rows
still under an old name (keeping their edits), and leaves edited ones alone unless ``--reset`` is given.
``RETIRED_TASKS`` lists task names no code serves any more: their rows are deleted (or re-pointed to the
task that replaced them) so a deployed database does not keep firing a dead name.
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule

# Task names that are gone -> the task that does that work now (or None: the work is gone too).
RETIRED_TASKS: dict[str, str | None] = {}


def schedule_definitions() -> list[dict]:
    """Every app's entries, in INSTALLED_APPS order (the order of the admin list and of the docs)."""
    entries: list[dict] = []
    for config in apps.get_app_configs():
        if not module_has_submodule(config.module, "tasks"):
            continue
        module = import_module(f"{config.name}.tasks")
        declared = getattr(module, "schedules", None)
        if declared is not None:
            entries.extend(declared())
    names = [e["name"] for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"Two schedule entries share a name: {duplicates}")
    return entries
