"""The peer for the side-by-side run: django-helpdesk's public ticket view, built at run time.

Nothing of django-helpdesk is in this repository: ``bench/hotpaths.sh`` pip-installs it from PyPI
into a separate venv (``$BENCH_DIR/peer-venv``) and runs this script with that venv's Python:

    peer-venv/bin/python bench/peer_helpdesk.py setup --dir $BENCH_DIR/peer --db postgres://.../sh_hotpaths_peer \
        --tickets 10000 --followups 4
    # then: peer-venv/bin/gunicorn peer_site.wsgi (cwd = --dir), same gunicorn settings as ours

``setup`` writes a minimal Django project (settings, urls, wsgi: production-like, DEBUG off, cached
templates, PostgreSQL with persistent connections), migrates, and loads one queue with ``--tickets``
tickets, each with ``--followups`` public follow-ups (like our 4-event timeline), then writes
``urls.txt``: public ticket view URLs (``/view/?ticket=Q-ID&email=...&key=...``) of random tickets.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

SETTINGS = """
import os
SECRET_KEY = os.environ.get("SECRET_KEY", "peer-bench-only-not-secret-0123456789abcdefghijklmnop")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.sites", "django.contrib.messages", "django.contrib.staticfiles", "django.contrib.humanize",
    "rest_framework", "helpdesk",
]
SITE_ID = 1
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peer_site.urls"
WSGI_APPLICATION = "peer_site.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.debug", "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth", "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PEER_DB_NAME"],
    "USER": os.environ.get("PEER_DB_USER", "postgres"), "HOST": os.environ.get("PEER_DB_HOST", "127.0.0.1"),
    "PORT": os.environ.get("PEER_DB_PORT", "5432"), "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True,
}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
STATIC_URL = "static/"
LOGIN_URL = "helpdesk:login"
HELPDESK_VIEW_A_TICKET_PUBLIC = True
HELPDESK_REDIRECT_TO_LOGIN_BY_DEFAULT = False
HELPDESK_TEAMS_MODE_ENABLED = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
"""

URLS = """
from django.urls import include, path
urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
"""

WSGI = """
import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_site.settings")
application = get_wsgi_application()
"""


def write_project(root: Path) -> None:
    pkg = root / "peer_site"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "settings.py").write_text(SETTINGS)
    (pkg / "urls.py").write_text(URLS)
    (pkg / "wsgi.py").write_text(WSGI)


def setup(args) -> None:
    from urllib.parse import urlparse

    root = Path(args.dir)
    write_project(root)
    db = urlparse(args.db)
    os.environ.update(
        PEER_DB_NAME=db.path.lstrip("/"),
        PEER_DB_USER=db.username or "postgres",
        PEER_DB_HOST=db.hostname or "127.0.0.1",
        PEER_DB_PORT=str(db.port or 5432),
        DJANGO_SETTINGS_MODULE="peer_site.settings",
    )
    sys.path.insert(0, str(root))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone
    from helpdesk.models import FollowUp, Queue, Ticket

    call_command("migrate", verbosity=0)
    rng = random.Random(20180301)
    if Ticket.objects.count() < args.tickets:
        call_command("flush", interactive=False, verbosity=0)
        queue = Queue.objects.create(title="Repairs", slug="REP", allow_public_submission=True)
        now = timezone.now()
        with transaction.atomic():
            batch = []
            for i in range(args.tickets):
                batch.append(
                    Ticket(
                        title=f"Cracked screen #{i}",
                        queue=queue,
                        submitter_email=f"c{i}@example.com",
                        description="The screen is cracked after a fall.",
                        status=Ticket.OPEN_STATUS,
                        created=now,
                        modified=now,
                        secret_key=f"{rng.getrandbits(64):016x}",
                    )
                )
                if len(batch) == 5000:
                    Ticket.objects.bulk_create(batch)
                    batch = []
            Ticket.objects.bulk_create(batch)
            ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
            follow = []
            for pk in ids:
                for j in range(args.followups):
                    follow.append(
                        FollowUp(ticket_id=pk, title=f"Step {j}", comment="Progress update.", public=True, date=now)
                    )
                if len(follow) >= 5000:
                    FollowUp.objects.bulk_create(follow)
                    follow = []
            FollowUp.objects.bulk_create(follow)
    tickets = list(Ticket.objects.select_related("queue").order_by("?")[:2000])
    (root / "urls.txt").write_text(
        "".join(f"/view/?ticket={t.queue.slug}-{t.pk}&email={t.submitter_email}&key={t.secret_key}\n" for t in tickets)
    )
    print(f"peer ready: {Ticket.objects.count()} tickets, {FollowUp.objects.count()} follow-ups", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--dir", required=True)
    s.add_argument("--db", required=True)
    s.add_argument("--tickets", type=int, default=10000)
    s.add_argument("--followups", type=int, default=4)
    args = parser.parse_args()
    setup(args)


if __name__ == "__main__":
    main()
