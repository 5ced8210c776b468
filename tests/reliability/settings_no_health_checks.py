"""Settings for the CONTROL run of test_postgres_restart: the project's settings with CONN_HEALTH_CHECKS off."""

from servicehub.settings import *  # noqa: F403

DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405
