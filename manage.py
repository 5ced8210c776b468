#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
    if not os.environ.get("SECRET_KEY") and not os.environ.get("DEBUG"):
        # Management commands (makemigrations, migrate, check...) need no real secret, so they run
        # with a throwaway key. It is named "django-insecure-" on purpose: `check --deploy` flags it
        # (security.W009). The web server (wsgi.py) and Celery still refuse to start without SECRET_KEY.
        os.environ["SECRET_KEY"] = "django-insecure-management-command-only-" + os.urandom(16).hex()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
