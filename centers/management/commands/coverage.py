"""Print the network's coverage of prefecture-level cities and counties, and what is uncovered."""

from django.core.management.base import BaseCommand

from centers.selectors import coverage_summary


class Command(BaseCommand):
    help = "Share of prefecture-level cities and counties with at least one active site; the uncovered list."

    def add_arguments(self, parser):
        parser.add_argument("--by-province", action="store_true", help="Also print the shares per province.")
        parser.add_argument("--limit", type=int, default=200, help="Print at most this many uncovered regions each.")

    def handle(self, *args, **options):
        cov = coverage_summary()
        self.stdout.write(f"Active sites: {cov.active_sites}")
        self.stdout.write(
            f"Prefecture-level cities covered: {cov.cities.covered}/{cov.cities.total} ({cov.cities.share:.2%})"
        )
        self.stdout.write(f"Counties covered: {cov.counties.covered}/{cov.counties.total} ({cov.counties.share:.2%})")
        if options["by_province"]:
            for p in cov.provinces:
                if not (p.cities.total or p.counties.total):
                    continue
                self.stdout.write(
                    f"  {p.adcode[:2]} {p.name}: cities {p.cities.covered}/{p.cities.total} ({p.cities.share:.1%}), "
                    f"counties {p.counties.covered}/{p.counties.total} ({p.counties.share:.1%})"
                )
        limit = options["limit"]
        for label, share in (("cities", cov.cities), ("counties", cov.counties)):
            self.stdout.write(f"Uncovered {label}: {len(share.uncovered)}")
            for r in share.uncovered[:limit]:
                self.stdout.write(f"  {r['adcode']} {r['province']} {r['name']}")
            if len(share.uncovered) > limit:
                self.stdout.write(f"  ... and {len(share.uncovered) - limit} more")
