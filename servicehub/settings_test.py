"""Settings for the test suite: the project's settings with ``TESTING`` on.

pytest uses this module (``DJANGO_SETTINGS_MODULE`` in ``pyproject.toml``). ``TESTING`` is read by
``servicehub.settings`` from the environment, so every test-only default that follows from it (a
development secret key, eager Celery, plain-HTTP webhook URLs allowed, no HTTPS redirects) comes
from one flag. A process started by a test that must behave like production sets ``TESTING=0``
(or its own ``DJANGO_SETTINGS_MODULE``), as ``tests/integration`` and ``tests/reliability`` do.
"""

import os

os.environ.setdefault("TESTING", "1")

from servicehub.settings import *  # noqa: E402, F403
