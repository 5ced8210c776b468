"""Load China's administrative divisions from the dataset the cpca package ships (idempotent)."""

import time

from django.core.management.base import BaseCommand

from centers.services import regions_load


class Command(BaseCommand):
    help = "Create/update Region rows (34 provinces, 344 prefecture-level units, ~3,133 counties) from cpca."

    def handle(self, *args, **options):
        started = time.monotonic()
        result = regions_load()
        self.stdout.write(
            f"Regions: {result.total} in the dataset, {result.created} created, {result.updated} updated "
            f"({time.monotonic() - started:.2f}s)."
        )
