"""Create an API key for a partner or a staff user; the key is the LAST line printed."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from centers.choices import StaffRole
from centers.models import Certification, ServiceCenter, StaffMembership
from partners.models import Partner
from partners.services import api_key_create
from servicehub.errors import DomainError


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


class Command(BaseCommand):
    help = "Create an API key for a partner (--partner) or a staff user (--user). Prints the key last."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--partner", help="Partner name (created if missing).")
        who.add_argument("--user", help="Username of the staff user the key acts as.")
        parser.add_argument(
            "--role", choices=StaffRole.values, help="With --user: create the user/membership if missing."
        )
        parser.add_argument("--center", help="With --role (except hq): the center code of the membership.")
        parser.add_argument("--scopes", help="Comma-separated scopes; none = all scopes.")
        parser.add_argument(
            "--centers",
            help="Comma-separated center codes the key is limited to; for --partner, only sites the partner runs.",
        )
        parser.add_argument("--name", default="", help="A label for the key.")

    @transaction.atomic
    def handle(self, *args, **opts):
        centers = []
        for code in _split(opts["centers"]):
            center = ServiceCenter.objects.filter(code=code).first()
            if center is None:
                raise CommandError(f"Unknown center code: {code}")
            centers.append(center)
        try:
            if opts["partner"]:
                partner, created = Partner.objects.get_or_create(name=opts["partner"])
                if created:
                    self.stdout.write(f"Created partner {partner.name}")
                key, raw = api_key_create(
                    partner=partner, scopes=_split(opts["scopes"]), centers=centers, name=opts["name"]
                )
            else:
                user = self._staff_user(opts)
                key, raw = api_key_create(user=user, scopes=_split(opts["scopes"]), centers=centers, name=opts["name"])
        except DomainError as exc:
            # e.g. "center_not_partner: Acme does not run SC-GD-001: ..." (nothing is written: one transaction)
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(f"Scopes: {', '.join(key.scopes)}")
        self.stdout.write("Store this key now; it is not shown again:")
        self.stdout.write(raw)

    def _staff_user(self, opts):
        User = get_user_model()
        username, role = opts["user"], opts["role"]
        user = User.objects.filter(username=username).first()
        if role is None:
            if user is None:
                raise CommandError(f"No user {username!r}; pass --role (and --center) to create one.")
            return user
        center = None
        if role != StaffRole.HQ:
            if not opts["center"]:
                raise CommandError("--center is required with --role other than hq.")
            center = ServiceCenter.objects.filter(code=opts["center"]).first()
            if center is None:
                raise CommandError(f"Unknown center code: {opts['center']}")
        if user is None:
            user = User.objects.create_user(username=username, password=None, is_staff=True)
            self.stdout.write(f"Created staff user {username} (no password: set one to use the admin)")
        elif not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        StaffMembership.objects.get_or_create(user=user, center=center, role=role)
        if role == StaffRole.ENGINEER:
            today = timezone.localdate()
            if not Certification.objects.filter(user=user, issued_on__lte=today, expires_on__gte=today).exists():
                Certification.objects.create(
                    user=user,
                    name="Certified repair engineer",
                    number=f"CERT-{secrets.token_hex(4).upper()}",
                    issued_on=today - timedelta(days=30),
                    expires_on=today + timedelta(days=730),
                )
        return user
