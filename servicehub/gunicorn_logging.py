"""gunicorn's logger with ServiceHub's masking: no full phone number or signed link in its logs.

gunicorn writes access lines (``"GET /admin/repairs/customer/?q=13800138000 HTTP/1.1" 200``)
and error lines ("Error handling request /track/X/quote/?t=...") through its own
loggers, outside Django's LOGGING. ``gunicorn.conf.py`` (read by every gunicorn
started from the project root: Procfile, Dockerfile, docker-compose) sets
``logger_class`` to this class, which puts the same filter as Django's handlers
(``servicehub.logging.MaskPhoneNumbersFilter``) on both loggers.
"""

from gunicorn.glogging import Logger

from servicehub.logging import MaskPhoneNumbersFilter


class MaskingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, MaskPhoneNumbersFilter) for f in log.filters):
                log.addFilter(MaskPhoneNumbersFilter())
