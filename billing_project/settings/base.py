import re
from datetime import timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# --- Core -------------------------------------------------------------------------------------
SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

PROJECT_NAME = env("PROJECT_NAME", default="Store Billing")
VERSION = env("VERSION", default="0.1.0")
API_V1_PREFIX = env("API_V1_PREFIX", default="/api/v1")

STORE_NAME = env("STORE_NAME", default=PROJECT_NAME)
# Lines separated by \n (in .env too): printed as lines on receipts and tax invoices.
STORE_ADDRESS = env.str("STORE_ADDRESS", default="", multiline=True)
# On every tax invoice and credit note (issue 13): the legal name (default STORE_NAME) and the tax
# registration, such as a GSTIN.
STORE_LEGAL_NAME = env("STORE_LEGAL_NAME", default="") or STORE_NAME
STORE_TAX_ID = env("STORE_TAX_ID", default="")
# GST registration (docs/gst.md): the store's GSTIN (empty: unregistered, its documents are Bills of
# Supply) and its 2-digit GST state code (default: the GSTIN's first two digits). STORE_TAX_ID is the
# older name of STORE_GSTIN: a GSTIN there counts as the store's GSTIN when STORE_GSTIN is unset.
# A system check refuses a malformed GSTIN or one from another state than STORE_STATE_CODE.
STORE_GSTIN = env("STORE_GSTIN", default="")
STORE_STATE_CODE = env("STORE_STATE_CODE", default="")
# UPI at the counter: the store's UPI id (VPA, e.g. shop@okaxis) and the name a customer's
# app shows for it (default STORE_NAME). Without UPI_VPA there is no UPI QR code (404
# upi_not_configured); UPI payments are still taken, with their UTR typed in.
UPI_VPA = env("UPI_VPA", default="").strip()
UPI_PAYEE_NAME = env("UPI_PAYEE_NAME", default="").strip() or STORE_NAME
if UPI_VPA and not re.fullmatch(r"[A-Za-z0-9._-]{2,256}@[A-Za-z][A-Za-z0-9.-]{1,63}", UPI_VPA):
    raise ImproperlyConfigured(f"UPI_VPA must be a UPI id such as shop@okaxis, not {UPI_VPA!r}")

# --- Invoice numbers and tax invoices -----------------------------------------------------------
# Numbers are <series>/<financial year>/<6 digits>, e.g. M/2627/000123; the financial year starts
# on the 1st of this month (4: April, as in India).
FINANCIAL_YEAR_START_MONTH = env.int("FINANCIAL_YEAR_START_MONTH", default=4)
if not 1 <= FINANCIAL_YEAR_START_MONTH <= 12:
    raise ImproperlyConfigured("FINANCIAL_YEAR_START_MONTH must be a month, 1 to 12.")
# "none": one tax column per rate; "cgst_sgst": each rate's tax shown as two halves (India's
# intra-state supplies), rounded so that they add up exactly to the tax.
TAX_SPLIT = env("TAX_SPLIT", default="none")
if TAX_SPLIT not in ("none", "cgst_sgst"):
    raise ImproperlyConfigured(f"TAX_SPLIT must be none or cgst_sgst, not {TAX_SPLIT!r}")

# --- Money ------------------------------------------------------------------------------------
CURRENCY = env("CURRENCY", default="INR")
# How amounts group their digits on every page, receipt, PDF, email and the admin: "indian"
# (₹1,18,000.00, the default for INR) or "international" (₹118,000.00, the default otherwise). The API
# and the CSV files always write plain numbers ("118000.00").
NUMBER_GROUPING = env("NUMBER_GROUPING", default="indian" if CURRENCY.upper() == "INR" else "international")
if NUMBER_GROUPING not in ("indian", "international"):
    raise ImproperlyConfigured(f"NUMBER_GROUPING must be indian or international, not {NUMBER_GROUPING!r}")
CASH_ROUNDING_INCREMENT = Decimal(env("CASH_ROUNDING_INCREMENT", default="1.00"))
_ROUNDING_METHODS = {"HALF_UP": ROUND_HALF_UP, "DOWN": ROUND_DOWN, "UP": ROUND_UP}
_rounding_method = env("CASH_ROUNDING_METHOD", default="HALF_UP").upper()
if _rounding_method not in _ROUNDING_METHODS:
    raise ImproperlyConfigured(
        f"CASH_ROUNDING_METHOD must be one of {', '.join(_ROUNDING_METHODS)}, not {_rounding_method!r}"
    )
CASH_ROUNDING_METHOD = _ROUNDING_METHODS[_rounding_method]
_exponent = CASH_ROUNDING_INCREMENT.as_tuple().exponent  # a letter for NaN or Infinity
if CASH_ROUNDING_INCREMENT <= 0 or not isinstance(_exponent, int) or _exponent < -2:
    raise ImproperlyConfigured("CASH_ROUNDING_INCREMENT must be a positive amount with at most 2 decimal places")

LOW_STOCK_THRESHOLD = env.int("LOW_STOCK_THRESHOLD", default=5)

# The labels the store's weighing scales print (catalog/barcodes.py): 13 characters, the fixed prefix
# (starting with 2), P = the product's PLU, W = grams or $ = paise, C = the check digit. Checked at startup.
SCALE_BARCODE_FORMAT = env("SCALE_BARCODE_FORMAT", default="21PPPPPWWWWWC")

# --- Applications -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "billing_project.admin_site.BillingAdminConfig",  # django.contrib.admin with the store's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # hashed, expiring API tokens, several per user (one per till)
    "axes",  # failed-login tracking for every login path, in the database
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "billing_project.core.apps.CoreConfig",
    "customers",
    "catalog",
    "purchases",
    "cashdrawer",
]

MIDDLEWARE = [
    "billing_project.core.middleware.RequestIdMiddleware",
    "billing_project.core.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "billing_project.core.middleware.CSPMiddleware",  # django-csp's, with the policy built once
    "billing_project.core.middleware.NoStoreMiddleware",
    "billing_project.core.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "billing_project.core.middleware.MessageMiddleware",  # Django's, with the storage made on first use
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a lockout found during authentication into the 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "billing_project.urls"
WSGI_APPLICATION = "billing_project.wsgi.application"
ASGI_APPLICATION = "billing_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "billing_project.context_processors.store",
                "csp.context_processors.nonce",
            ],
            # {% load money %}: amounts written the one way (billing_project.core.money.format_money).
            "libraries": {
                "money": "billing_project.core.templatetags.money",
                # {% result_rows cl %}: a long admin list's rows with less work per cell (core.admin_helpers).
                "admin_rows": "billing_project.core.templatetags.admin_rows",
            },
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'billing.db'}")}
_db = DATABASES["default"]
DB_PREPARED_STATEMENTS = False  # PostgreSQL only: see below
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue on busy_timeout instead of
    # failing with "database is locked" half-way through a bill.
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # The bills' covering index (purchase_created_id_cover) INCLUDEs the sales reports' summed columns
    # on PostgreSQL; SQLite keeps only its key column, which is all a SQLite store needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif _db["ENGINE"] in ("django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"):
    if env.bool("DB_POOL", default=True):
        # Django's psycopg pool. With CONN_HEALTH_CHECKS the pool checks a connection before handing
        # it out, so the app recovers by itself after the database restarts. The backend
        # (billing_project.core.postgresql) makes that check billing_project.core.pool_check's: it asks the
        # kernel whether the server ended the connection, and sends a query only then, instead of a
        # round trip on every request.
        if _db["ENGINE"] == "django.db.backends.postgresql":
            _db["ENGINE"] = "billing_project.core.postgresql"
        _db["CONN_MAX_AGE"] = 0
        _db["CONN_HEALTH_CHECKS"] = True
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=8),
            "timeout": env.float("DB_POOL_TIMEOUT", default=2.0),
        }
    else:
        _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
    # Behind PgBouncer in transaction mode: a server-side cursor (QuerySet.iterator()) outlives its
    # transaction's server connection, so turn them off. Prepared statements are already off
    # (Django's psycopg cursors bind client-side) and timeouts are per transaction (SET LOCAL).
    _db["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False)
    # The bill's statements prepared once per connection (billing_project.core.db.cursor): PostgreSQL
    # then skips planning them, most of their cost. On by default; off by default behind a pooler in
    # transaction mode (DISABLE_SERVER_SIDE_CURSORS=True says so), where the next transaction may run
    # on a server connection that never saw the statement (PgBouncer >= 1.21 with
    # max_prepared_statements handles it: set DB_PREPARED_STATEMENTS=True there).
    DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=not _db["DISABLE_SERVER_SIDE_CURSORS"])
    if DB_PREPARED_STATEMENTS:
        # psycopg prepares a statement once a connection has sent it 5 times (Django's default: never).
        _db.setdefault("OPTIONS", {})["prepare_threshold"] = 5

# The optional read replica: only the sales report reads from it (billing_project.core.db_router);
# bills, refunds, sessions and everything else use the primary. Same pool and timeouts as default.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        **{
            key: _db[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS") if key in _db
        },
        "OPTIONS": dict(_db.get("OPTIONS", {})),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["billing_project.core.db_router.ReplicaRouter"]

# Every write transaction on PostgreSQL (billing_project.core.db.atomic_write, SET LOCAL): one blocked
# behind a stuck lock gives up (503 `busy`) instead of hanging, and no statement runs for ever.
# Bills have their own BILL_* values, defaulting to these.
DB_LOCK_TIMEOUT_MS = env.int("DB_LOCK_TIMEOUT_MS", default=3000)
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=10000)
# A transaction left idle (a stuck worker holding row locks) is ended by the server. Set per write
# transaction and, as a session default, on every connection (OPTIONS "options"; see
# docs/operations.md for PgBouncer in transaction mode, which does not pass it on: DB_IDLE_TIMEOUT_AT_CONNECT=False).
DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = env.int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", default=30000)
if min(DB_LOCK_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS, DB_IDLE_IN_TRANSACTION_TIMEOUT_MS) <= 0:
    raise ImproperlyConfigured(
        "DB_LOCK_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS and DB_IDLE_IN_TRANSACTION_TIMEOUT_MS must be > 0"
    )
if _db["ENGINE"] in (
    "billing_project.core.postgresql",
    "django.db.backends.postgresql",
    "django.contrib.gis.db.backends.postgis",
) and env.bool("DB_IDLE_TIMEOUT_AT_CONNECT", default=True):
    _options = _db.setdefault("OPTIONS", {})
    _options["options"] = (
        f"{_options.get('options', '')} -c idle_in_transaction_session_timeout={DB_IDLE_IN_TRANSACTION_TIMEOUT_MS}"
    ).strip()

# Bill transactions: a till blocked behind a stuck lock gives up instead of hanging.
BILL_LOCK_TIMEOUT_MS = env.int("BILL_LOCK_TIMEOUT_MS", default=DB_LOCK_TIMEOUT_MS)
BILL_STATEMENT_TIMEOUT_MS = env.int("BILL_STATEMENT_TIMEOUT_MS", default=DB_STATEMENT_TIMEOUT_MS)
# A sales report's statements (read-only; a year by payment method takes seconds at a million bills):
# under gunicorn's timeout, so a runaway report answers 503 instead of holding a worker.
REPORT_STATEMENT_TIMEOUT_MS = env.int("REPORT_STATEMENT_TIMEOUT_MS", default=20000)
# The memory a sales report by product gives PostgreSQL to hash its products' sums, and a GSTR-1 to
# read a month's bills and hash their lines' sums (``work_mem``, for that report's transaction only;
# PostgreSQL's hash may take twice it).
REPORT_WORK_MEM_MB = env.int("REPORT_WORK_MEM_MB", default=32)
# How many rows of reports by product each worker keeps, read from the rollup and written as the API
# writes them, for the same report asked again (``purchases.report_cache``; about 450 bytes a row;
# 0: none). Kept rows go on being used after later seals, with the bills and refunds past their own
# seal read raw, until the seal is REPORT_CACHE_LAG_BILLS bills (or refunds) past them.
REPORT_CACHE_ROWS = env.int("REPORT_CACHE_ROWS", default=100_000)
REPORT_CACHE_LAG_BILLS = env.int("REPORT_CACHE_LAG_BILLS", default=2_000)

# Tills: the till a bill or a /denominations request uses when it names none, and the largest
# over/short (absolute, in money) a till may open or close with without the approve_variance permission.
DEFAULT_TILL = env("DEFAULT_TILL", default="MAIN")
CASH_VARIANCE_LIMIT = Decimal(env("CASH_VARIANCE_LIMIT", default="0.00"))

# Discounts: the largest effective rate (percent, on any line) a user without the
# give_large_discount permission may give; above it the bill needs a manager.
CASHIER_MAX_DISCOUNT_PERCENT = Decimal(env("CASHIER_MAX_DISCOUNT_PERCENT", default="10"))
if not Decimal(0) <= CASHIER_MAX_DISCOUNT_PERCENT <= 100:
    raise ImproperlyConfigured("CASHIER_MAX_DISCOUNT_PERCENT must be between 0 and 100")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks (transactional outbox) ---------------------------------------------------
# The database backend writes a job row in the caller's transaction: a bill and its invoice job
# commit or roll back together. `python manage.py db_worker` runs the jobs. Any other backend must
# also store jobs in this database and support `run_after`, or the invoice guarantee is lost.
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", default="billing_project.core.tasks_backend.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- Email ------------------------------------------------------------------------------------
# EMAIL_URL (smtp://user:pass@host:25, smtp+tls://…:587, smtp+ssl://…:465, consolemail://) wins;
# otherwise the usual EMAIL_HOST / EMAIL_PORT / EMAIL_HOST_USER / EMAIL_HOST_PASSWORD /
# EMAIL_USE_TLS / EMAIL_USE_SSL.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
if "EMAIL_URL" in env.ENVIRON:
    _email = env.email_url("EMAIL_URL")
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"] or EMAIL_HOST
    EMAIL_PORT = _email["EMAIL_PORT"] or EMAIL_PORT
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
    EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive")
EMAIL_CONFIGURED = any(name in env.ENVIRON for name in ("EMAIL_URL", "EMAIL_HOST", "EMAIL_BACKEND"))
# Seconds per socket operation; keep it well under INVOICE_RETRY_BACKOFF_SECONDS (see below).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="billing@localhost")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# Invoice emails: attempts per (re-)send, and the exponential backoff between them. Each attempt
# schedules the next one before it talks to the mail server, so the backoff is also how long an
# attempt may take before a worker assumes it died and retries.
INVOICE_MAX_ATTEMPTS = env.int("INVOICE_MAX_ATTEMPTS", default=5)
INVOICE_RETRY_BACKOFF_SECONDS = env.int("INVOICE_RETRY_BACKOFF_SECONDS", default=60)
INVOICE_RETRY_BACKOFF_MAX_SECONDS = env.int("INVOICE_RETRY_BACKOFF_MAX_SECONDS", default=3600)
if INVOICE_MAX_ATTEMPTS < 1 or INVOICE_RETRY_BACKOFF_SECONDS < 0 or INVOICE_RETRY_BACKOFF_MAX_SECONDS < 0:
    raise ImproperlyConfigured("INVOICE_MAX_ATTEMPTS must be >= 1 and the INVOICE_RETRY_BACKOFF_* values >= 0")

# Tax invoice and credit note PDFs: the first print's PDF is kept this many days for the reprints
# (``manage.py prune_document_pdfs`` drops older ones; a print after that renders it again).
DOCUMENT_PDF_KEEP_DAYS = env.int("DOCUMENT_PDF_KEEP_DAYS", default=30)
if DOCUMENT_PDF_KEEP_DAYS < 0:
    raise ImproperlyConfigured("DOCUMENT_PDF_KEEP_DAYS must be 0 or more")

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes guards every login path that goes through authenticate(): the login page, the admin,
# /api-auth/ and POST /api/v1/auth/token. Failures are rows in the database (every gunicorn worker
# sees them), keyed on the username and the client address together: guessing one user's password
# from one address locks out that pair only, so nobody can lock a known user out of every till.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before the password is tried
    # Permissions only, in one query (Django's backend reads a user's own and group permissions in two).
    "billing_project.core.auth_backend.PermissionsInOneQuery",
    "django.contrib.auth.backends.ModelBackend",  # passwords; the backend that sessions name
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
# The address key: an IPv4 address, or an IPv6 address's /64 (the same key as the token throttle).
AXES_CLIENT_IP_CALLABLE = "billing_project.core.client_ip.client_key"
AXES_LOCKOUT_CALLABLE = "billing_project.core.lockout.lockout_response"
AXES_VERBOSE = False
if AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT must be at least 1")

# How many proxies that append to X-Forwarded-For stand in front of the app (0: none, forwarded
# headers are ignored). Every throttle and the lockout key on billing_project.core.client_ip.client_key.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")

# API tokens (django-rest-knox): only a hash is stored; each POST /api/v1/auth/token issues a new
# token (one per till device), which expires after API_TOKEN_TTL_HOURS and is revoked in the admin.
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=24 * 30)
if API_TOKEN_TTL_HOURS < 1:
    raise ImproperlyConfigured("API_TOKEN_TTL_HOURS must be at least 1")
# Each process remembers a token it has checked, with its user's permissions, for this many seconds
# (0: never), so a request costs no query for them. Revoking a token, deactivating its user or
# changing their role takes effect at once in the process that did it and within this time in every
# other worker (billing_project/core/api/authentication.py).
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", default=60)
if API_TOKEN_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("API_TOKEN_CACHE_SECONDS must be 0 or more")
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# --- I18N / static ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# Dates as the till writes them, in the admin too: "30 Nov 2026, 12:37" (billing_project/formats).
FORMAT_MODULE_PATH = ["billing_project.formats"]

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []

# --- Cache (DRF's token-request throttle) -----------------------------------------------------
# Per process here (runserver, tests); production settings default to the database cache, shared
# by every gunicorn worker (`manage.py migrate` creates its table). Failed logins do not depend on
# it: django-axes keeps them in the database.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Limits -----------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous request gets 401 with a WWW-Authenticate header. Hashed,
        # expiring knox tokens, sent as `Authorization: Token <token>` or `Bearer <token>`.
        "billing_project.core.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "billing_project.core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "billing_project.core.api.exceptions.exception_handler",
    # JSON only: anything else is 415 `unsupported_media_type`. The browsable API's raw-data form
    # still works.
    "DEFAULT_PARSER_CLASSES": ["billing_project.core.api.parsers.JSONParser"],
    # An unknown `?format=` is 406 `not_acceptable`, as an unsatisfiable Accept header is (DRF: 404).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "billing_project.core.api.negotiation.ContentNegotiation",
    "COERCE_DECIMAL_TO_STRING": True,
    # The browsable API shows a docstring's `backticks` as code (billing_project/core/api/descriptions.py).
    "VIEW_DESCRIPTION_FUNCTION": "billing_project.core.api.descriptions.view_description",
    "DEFAULT_THROTTLE_RATES": {
        "auth_token": env("AUTH_TOKEN_THROTTLE_RATE", default="10/min"),
        # Tax invoice and credit note PDFs (API and pages), per user: a print can hold a worker for
        # a while, so no one user can keep the workers busy with them.
        "pdf": env("PDF_THROTTLE_RATE", default="20/min"),
    },
    # Only DRF's stock throttles read this, and they key differently (no IPv6 /64, no ports): every
    # throttle here derives from billing_project.core.api.throttling, keyed on client_ip.client_key.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

SPECTACULAR_SETTINGS = {
    "TITLE": f"{PROJECT_NAME} API",
    "DESCRIPTION": (
        "Products, the cash drawer, customers and bills. Every error body is "
        '`{"code", "message", "details"}`; money is a decimal string with 2 places. '
        "Every query parameter is given at most once (twice is a `validation_error`). "
        "Answers are JSON; `?format=json` asks for it too, and a `format` the endpoint does not produce is 406 "
        "`not_acceptable`, as an `Accept` header it cannot satisfy is."
    ),
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Enums are described in billing_project.core.api.schema.ENUM_DESCRIPTIONS, fields by their help text.
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "billing_project.core.api.schema.describe_enums",
        "billing_project.core.api.schema.document_parameters",
        "billing_project.core.api.schema.add_error_responses",
        "purchases.schema.document_payment_forms",
    ],
    "ENUM_NAME_OVERRIDES": {
        "InvoiceStatusEnum": "purchases.models.InvoiceStatus",
        "SessionStatusEnum": "cashdrawer.models.TillSession.Status",
        "SupplyTypeEnum": "purchases.models.SupplyType",
        "OverrideActionEnum": "cashdrawer.models.Override.Action",
        "OverrideOutcomeEnum": "cashdrawer.models.Override.Outcome",
        "StockMovementKindEnum": "catalog.models.StockMovement.Kind",
        "AdjustmentReasonEnum": "catalog.models.Adjustment.Reason",
        "StockCountStatusEnum": "catalog.models.StockCount.Status",
        "TransferStatusEnum": "catalog.models.Transfer.Status",
    },
}
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)

# --- Response headers ---------------------------------------------------------------------------
# Scripts only from this origin or with the request's nonce. Inline style attributes stay allowed:
# the admin's templates and Redoc's generated styles use them, and styles cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "worker-src": [SELF, "blob:"],  # Redoc's search worker
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}

# --- Metrics ----------------------------------------------------------------------------------
# Prometheus metrics at /metrics (billing_project/core/metrics.py). They are not public: a scrape must send
# `Authorization: Bearer <METRICS_TOKEN>`; with no token configured /metrics answers 404.
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
METRICS_TOKEN = env("METRICS_TOKEN", default="")
if not METRICS_ENABLED:
    MIDDLEWARE.remove("billing_project.core.middleware.MetricsMiddleware")

# --- Logging ----------------------------------------------------------------------------------
# Every line carries the request id (`-` outside a request). Production settings write JSON lines.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "billing_project.core.request_id.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "billing": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
