"""ServiceHub settings: everything that differs between machines comes from the environment.

Embedded default (nothing set): SQLite file, Celery eager, local-memory cache,
console e-mail and SMS. Production: set DATABASE_URL, REDIS_URL, SECRET_KEY,
ALLOWED_HOSTS and leave DEBUG off; `manage.py check --deploy` then passes.
See README.md for every variable.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(env_file)

# The test suite runs with servicehub.settings_test, which switches TESTING on; nothing here
# guesses from what is imported.
TESTING = env.bool("TESTING", default=False)
DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG or TESTING:
        # Only for local runs and the test suite; production must set SECRET_KEY.
        SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"
    else:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a local run).")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A failed CSRF check in the staff site is a readable page, not Django's bare "403 Forbidden".
CSRF_FAILURE_VIEW = "servicehub.admin_site.csrf_failure"

INSTALLED_APPS = [
    "servicehub.admin_apps.StaffAdminConfig",  # django.contrib.admin with the ServiceHub staff site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "csp",
    "servicehub",
    "centers",
    "partners",
    "warranty",
    "repairs",
    "loaners",
    "notifications",
    "logistics",
    "parts",
    "payments",
    "returns",
    "accounting",
    "booking",
    "outreach",
    "web",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A NUL in a query parameter is a 400 before PostgreSQL sees it (servicehub/nul.py).
    "servicehub.nul.RejectNulMiddleware",
    # HTML and JSON leave compressed (static files are precompressed by WhiteNoise). Django's
    # gzip adds random padding to the stream against BREACH (CSRF tokens are in the pages).
    "django.middleware.gzip.GZipMiddleware",
    # Content-Security-Policy (django-csp): strict on public pages, looser under /admin/ (servicehub/csp.py).
    "servicehub.csp.ServiceHubCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Public GET pages and endpoints read from DATABASE_REPLICA_URL when it is set (docs/scaling.md).
    "servicehub.dbrouter.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Idempotency-Key for API POSTs (after auth: keys are scoped to the session user or API key).
    "servicehub.api.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns locked-out logins into a 429 page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "servicehub.urls"
WSGI_APPLICATION = "servicehub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "servicehub" / "templates"],
        "OPTIONS": {
            # Compiled templates are kept per process (Django's default since 4.1 without a
            # `loaders` option; spelled out so nobody loses it by adding a loader).
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    ["django.template.loaders.filesystem.Loader", "django.template.loaders.app_directories.Loader"],
                )
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "servicehub.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections, checked before reuse so a PostgreSQL restart costs
    # one failed health check instead of a 500.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    # SQLite: wait for the write lock instead of failing at once.
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# PgBouncer in transaction pooling mode: server-side cursors (``.iterator()``) and session state
# do not survive between transactions there; set DISABLE_SERVER_SIDE_CURSORS=1 behind one.
if IS_POSTGRES and env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# servicehub.prepared plans its hot queries once per connection (PREPARE / EXECUTE): session state, so off
# behind PgBouncer's transaction pooling (DISABLE_SERVER_SIDE_CURSORS=1 turns it off with the cursors).
PREPARED_STATEMENTS = IS_POSTGRES and env.bool(
    "PREPARED_STATEMENTS", default=not env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False)
)

# A streaming read replica for public reads (servicehub/dbrouter.py, docs/scaling.md). Writes,
# transactions, staff pages and anything after a write in the same request use the primary.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "OPTIONS", "DISABLE_SERVER_SIDE_CURSORS"):
        if _key in DATABASES["default"]:
            DATABASES["replica"].setdefault(_key, DATABASES["default"][_key])
    # Tests read the same test database through both aliases.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["servicehub.dbrouter.PrimaryReplicaRouter"]
# URL prefixes whose GET/HEAD requests may read from the replica (anonymous public reads only).
REPLICA_READ_PATHS = env.list(
    "REPLICA_READ_PATHS",
    default=["/api/v1/centers/", "/api/v1/service-days/", "/centers/", "/board/", "/api/v1/official-stores/"],
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery --------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "servicehub.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="servicehub"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Template fragments that depend only on the code, the language and settings (the site's navigation and footer,
# the home page's tiles): kept in each process, no round trip; a deploy starts new processes, and a change of
# settings or translations clears it (servicehub.fragments).
# Templates: {% cache 3600 name LANGUAGE_CODE using="fragments" %}.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "servicehub-fragments",
    "TIMEOUT": 3600,
    "OPTIONS": {"MAX_ENTRIES": 1000},
}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Tests run tasks in-process even when REDIS_URL is set; the integration tests start a real worker themselves.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL or TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Longer than any retry countdown, so a delayed task is never redelivered early.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600, "socket_connect_timeout": 5, "socket_timeout": 30}
# CELERY_QUEUE set: every task on that one queue (tests, small installs). Otherwise three queues,
# so a burst of one kind never waits behind another: notifications (SMS/e-mail to customers),
# webhooks (partner deliveries, slow receivers), jobs (everything scheduled). A worker per queue in
# the Procfile and docker-compose.yml; the producer (web) decides the queue, so it needs the same value.
CELERY_QUEUE = env("CELERY_QUEUE", default="")
CELERY_SPLIT_QUEUES = env.bool("CELERY_SPLIT_QUEUES", default=not CELERY_QUEUE and not TESTING)
CELERY_SPLIT_ROUTES = {
    "notifications.*": {"queue": "notifications"},
    # Domain events fan out to SMS and webhooks: latency matters as for notifications.
    "servicehub.outbox_dispatch": {"queue": "notifications"},
    "partners.tasks.webhook_*": {"queue": "webhooks"},
    # Scheduled jobs (each app's tasks.py; names kept from before they moved, beat rows reference them).
    "jobs.*": {"queue": "jobs"},
}
if CELERY_SPLIT_QUEUES:
    CELERY_TASK_DEFAULT_QUEUE = "jobs"
    CELERY_TASK_ROUTES = CELERY_SPLIT_ROUTES
else:
    CELERY_TASK_DEFAULT_QUEUE = CELERY_QUEUE or "celery"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "Asia/Shanghai"

# --- E-mail, SMS ----------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG.get("EMAIL_BACKEND") == "django.core.mail.backends.console.EmailBackend":
    # Prints signed links redacted unless DEBUG (servicehub/mail.py).
    EMAIL_BACKEND = "servicehub.mail.RedactingConsoleEmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ServiceHub <service@servicehub.local>")
SMS_BACKEND = env("SMS_BACKEND", default="servicehub.sms.ConsoleSMSBackend")
# servicehub.sms.HttpSMSBackend: a JSON-over-HTTPS provider.
SMS_HTTP_URL = env("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env("SMS_HTTP_TOKEN", default="")
SMS_HTTP_SENDER = env("SMS_HTTP_SENDER", default="ServiceHub")
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=10.0)
WECHAT_BACKEND = env("WECHAT_BACKEND", default="notifications.wechat.ConsoleWeChatBackend")
# Notification kind -> WeChat template id, e.g. WECHAT_TEMPLATE_IDS="ticket_received=abc,repair_ready=def".
WECHAT_TEMPLATE_IDS = env.dict("WECHAT_TEMPLATE_IDS", default={})

# --- Notifications outbox and scheduled jobs (docs/jobs.md) ---------------
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=30)
NOTIFICATIONS_RETRY_MAX_SECONDS = env.int("NOTIFICATIONS_RETRY_MAX_SECONDS", default=3600)
NOTIFICATIONS_SEND_LEASE_SECONDS = env.int("NOTIFICATIONS_SEND_LEASE_SECONDS", default=120)
NOTIFICATIONS_SWEEP_AFTER_SECONDS = env.int("NOTIFICATIONS_SWEEP_AFTER_SECONDS", default=180)
NOTIFICATIONS_SWEEP_BATCH = env.int("NOTIFICATIONS_SWEEP_BATCH", default=2000)
JOBS_RUN_LEASE_SECONDS = env.int("JOBS_RUN_LEASE_SECONDS", default=1800)
JOBS_SERVICE_DAYS_DAY_OF_MONTH = env.int("JOBS_SERVICE_DAYS_DAY_OF_MONTH", default=20)
JOBS_SERVICE_DAY_REMINDER_DAYS_BEFORE = env.int("JOBS_SERVICE_DAY_REMINDER_DAYS_BEFORE", default=2)
JOBS_SERVICE_DAY_AUDIENCE_DAYS = env.int("JOBS_SERVICE_DAY_AUDIENCE_DAYS", default=365)
JOBS_SLA_WATCH_MINUTES = env.int("JOBS_SLA_WATCH_MINUTES", default=5)
TICKET_AUTO_CLOSE_DAYS = env.int("TICKET_AUTO_CLOSE_DAYS", default=7)

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

# --- I18N -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded files (the photos of store reports). Never served publicly: no URL route serves MEDIA_ROOT; staff
# open photos through the admin (centers.admin.StoreReportAdmin.photo_view).
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "partners.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["servicehub.api.permissions.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["servicehub.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "servicehub.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["servicehub.api.filters.StrictDjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "servicehub.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "servicehub.api.errors.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "servicehub.api.throttling.PublicAnonThrottle",
        "servicehub.api.throttling.KeyThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="300/min"),
        "key": env("THROTTLE_KEY", default="3000/min"),
        "tracking": env("THROTTLE_TRACKING", default="30/min"),
        # Web plan orders started per client address (each opens a provider order): payments.md.
        "plan_checkout": env("THROTTLE_PLAN_CHECKOUT", default="20/hour"),
        # Reports of unofficial stores, per client address: the API and the public page share the budget.
        "store_reports": env("THROTTLE_STORE_REPORTS", default="10/hour"),
        # Sign-ups for community events (API and page, per address): issue #22.
        "event_signup": env("THROTTLE_EVENT_SIGNUP", default="10/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ServiceHub API",
    "DESCRIPTION": (
        "After-sales service network: centers, repairs, loaners, warranty and plans. "
        "Errors are RFC 9457 problem details with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        # warranty
        "SaleChannelEnum": "warranty.choices.SaleChannel",
        "PurchaseChannelEnum": "warranty.choices.PurchaseChannel",
        "PurchaseStatusEnum": "warranty.choices.PurchaseStatus",
        # centers
        "CenterKindEnum": "centers.choices.CenterKind",
        # returns: the 三包 decision's kind (return / exchange / repair)
        "ReturnDecisionKindEnum": "returns.choices.DecisionKind",
        # the seller's refund of a 三包 return vs. a refund of a payment: two "refund status" enums
        "ReturnRefundStatusEnum": "returns.choices.RefundStatus",
        "RefundStatusEnum": "payments.choices.RefundStatus",
        # loaners
        "LoanStatusEnum": "loaners.choices.LoanStatus",
        "DepositEntryKindEnum": "loaners.choices.EntryKind",
        # every deduction kind (answers) vs. the two a counter may enter (requests): two distinct enums
        "DeductionKindEnum": "loaners.choices.DeductionKind",
        "CounterDeductionKindEnum": "loaners.api.serializers.COUNTER_DEDUCTION_KINDS",
        "PaymentMethodEnum": "loaners.choices.PaymentMethod",
        # amenities lent at the desk (issue #22): their kinds and loan states
        "AmenityKindEnum": "loaners.choices.AmenityKind",
        "AmenityLoanStatusEnum": "loaners.choices.AmenityLoanStatus",
        # booking: hotline callbacks
        "CallbackStatusEnum": "booking.choices.CallbackStatus",
        # repairs, logistics
        "TicketStatusEnum": "repairs.choices.TicketStatus",
        "TicketChannelEnum": "repairs.choices.Channel",
        "FaultCategoryEnum": "repairs.choices.FaultCategory",
        "ShipmentStatusEnum": "logistics.choices.ShipmentStatus",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKeyAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A partner or staff API key: `Authorization: Bearer sh_...`",
            }
        }
    },
    # Interactive docs are served from the app itself (no third-party CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "servicehub.api.idempotency.schema_postprocessing_hook",
        "servicehub.api.schema.strict_parameters_hook",
    ],
}

# --- Domain settings ------------------------------------------------------
SERVICEHUB = {
    # How long a tracking link signature stays valid (seconds).
    "SIGNED_LINK_MAX_AGE": env.int("SIGNED_LINK_MAX_AGE", default=14 * 24 * 3600),
    "PUBLIC_BASE_URL": env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000"),
    # The customer hotline, in every public page's footer as a tel: link (default: a demo number).
    "HOTLINE": env("HOTLINE", default="400-830-8300"),
}

# --- Customer verification (repairs.verification, docs/security.md) ----------
VERIFICATION = {
    "CODE_TTL_SECONDS": 300,  # an SMS code is valid 5 minutes
    "CODE_MAX_ATTEMPTS": 5,  # tries per code
    "CODES_PER_PHONE_PER_HOUR": env.int("VERIFICATION_CODES_PER_PHONE_PER_HOUR", default=5),
    "CODES_PER_ADDRESS_PER_HOUR": env.int("VERIFICATION_CODES_PER_ADDRESS_PER_HOUR", default=20),
    "ME_SESSION_SECONDS": env.int("ME_SESSION_SECONDS", default=30 * 60),  # "my service" sign-in
    "LOOKUP_FAILURES_BEFORE_LOCK": 10,  # wrong last-4 per service number within the lock time ...
    "LOOKUP_LOCK_SECONDS": 3600,  # ... lock that number's digit lookups this long
}

# --- Customer self-service (booking app) -----------------------------------
BOOKING = {
    # Customers may cancel or reschedule until this many minutes before the slot.
    "CHANGE_CUTOFF_MINUTES": env.int("BOOKING_CHANGE_CUTOFF_MINUTES", default=60),
    # Used for weekdays a center has no SlotRule for.
    "SLOT_MINUTES": 30,
    "DESKS": 2,
    "NO_SHOW_GRACE_MINUTES": 30,
    "MAX_DAYS_AHEAD": 30,
}
# Counter and QR payments (payments app, docs/payments.md): which provider serves each QR method, and
# their keys. The sandbox moves no money; set PAYMENT_SANDBOX_ENABLED=0 in production.
PAYMENT_PROVIDERS = {
    "wechat_pay": env("PAYMENT_WECHAT_PROVIDER", default="sandbox"),
    "alipay": env("PAYMENT_ALIPAY_PROVIDER", default="sandbox"),
}
PAYMENT_PROVIDER_OPTIONS: dict[str, dict] = {
    "wechat_pay": {
        "MCHID": env("WECHAT_PAY_MCHID", default=""),
        "APPID": env("WECHAT_PAY_APPID", default=""),
        "PRIVATE_KEY": env("WECHAT_PAY_PRIVATE_KEY", default=""),
        "CERT_SERIAL_NO": env("WECHAT_PAY_CERT_SERIAL_NO", default=""),
        "APIV3_KEY": env("WECHAT_PAY_APIV3_KEY", default=""),
        "PUBLIC_KEY": env("WECHAT_PAY_PUBLIC_KEY", default=""),
        "PUBLIC_KEY_ID": env("WECHAT_PAY_PUBLIC_KEY_ID", default=""),
    },
    "alipay": {
        "APPID": env("ALIPAY_APPID", default=""),
        "APP_PRIVATE_KEY": env("ALIPAY_APP_PRIVATE_KEY", default=""),
        "ALIPAY_PUBLIC_KEY": env("ALIPAY_PUBLIC_KEY", default=""),
        "DEBUG": env.bool("ALIPAY_DEBUG", default=False),
    },
}
PAYMENT_SANDBOX_ENABLED = env.bool("PAYMENT_SANDBOX_ENABLED", default=True)

# Sign-language video sessions (outreach.video, docs/outreach.md): the provider that creates the meeting links.
OUTREACH_VIDEO = {
    "default": env("OUTREACH_VIDEO_PROVIDER", default="sandbox"),
    "sandbox": {"base_url": env("OUTREACH_VIDEO_SANDBOX_URL", default="https://meet.sandbox.invalid")},
}
OUTREACH_SIGN_SESSION_MINUTES = env.int("OUTREACH_SIGN_SESSION_MINUTES", default=30)
# A session still "scheduled" this long after its start is closed by the job (held if the customer checked in).
OUTREACH_SIGN_SESSION_CLOSE_AFTER_MINUTES = env.int("OUTREACH_SIGN_SESSION_CLOSE_AFTER_MINUTES", default=120)

# --- Security (production) -------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # The local production-like runner (Procfile) serves plain HTTP on 127.0.0.1;
    # it sets these three to 0. A real deployment keeps the defaults.

# Content-Security-Policy (django-csp 4). Public pages carry no inline script or style (their
# JavaScript is in static files), so nothing inline runs there; /admin/ and /api/docs/ get the
# looser replacements of servicehub/csp.py. No third-party origin is needed anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_phones": {"()": "servicehub.logging.MaskPhoneNumbersFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_phones"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # runserver's access lines ("GET /admin/...?q=13800138000"): Django's default handler for
        # them has no filter, so they get the masking one (phones, and tokens outside DEBUG).
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
