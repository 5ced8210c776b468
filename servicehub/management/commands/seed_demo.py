"""Idempotent demo data for the whole product; each app seeds its own part.

Order matters (centers before devices before tickets before loans), so the
apps are listed here explicitly. Each ``<app>/demo.py`` exposes
``seed(*, out, options) -> None`` and must be idempotent on its own.
"""

import importlib
import random
import time

from django.core.management.base import BaseCommand

SEED_ORDER = (
    "centers",
    "partners",
    "warranty",
    "repairs",
    "loaners",
    "parts",
    "payments",
    "returns",
    "accounting",
    "outreach",
)


class Command(BaseCommand):
    help = "Load idempotent demo data (running it twice changes nothing) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--centers", type=int, default=60, help="Service centers (default 60).")
        parser.add_argument("--collection-points", type=int, default=200, help="Collection points (default 200).")
        parser.add_argument("--tickets", type=int, default=40, help="Demo repair tickets (default 40).")
        parser.add_argument("--seed", type=int, default=20180301, help="Random seed (same seed, same data).")

    def handle(self, *args, **options):
        options["rng"] = random.Random(options["seed"])
        for app in SEED_ORDER:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            started = time.monotonic()
            module.seed(out=self.stdout, options=options)
            self.stdout.write(f"  {app}: done in {time.monotonic() - started:.1f}s")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
