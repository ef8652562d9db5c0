"""Django settings for the Luffy course-shop API.

Everything that differs between machines comes from environment variables (optionally read from
a `.env` file next to manage.py); `.env.example` documents each one.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from libs.iPay.config import env_mapping as alipay_env_mapping
from libs.iPay.config import settings_from_mapping as alipay_settings_from_mapping
from libs.qiniu.config import settings_from_env as qiniu_settings_from_env
from libs.tencent.config import settings_from_env as tencent_settings_from_env
from luffy_api.dev_secret import load_or_create_dev_secret_key
from utils.env import env_bool, env_choice, env_int, env_list, env_str
from utils.security_headers import origin_of

BASE_DIR = Path(__file__).resolve().parent.parent

# Real environment variables win over the .env file. Tests run with LUFFY_IGNORE_DOTENV=1 so a
# developer's local .env cannot change what the suite sees.
if not os.environ.get("LUFFY_IGNORE_DOTENV"):
    load_dotenv(BASE_DIR / ".env", override=False)


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set and DJANGO_DEBUG is off. Set DJANGO_SECRET_KEY to a long "
            "random string (python -c 'import secrets; print(secrets.token_urlsafe(50))'), or set "
            "DJANGO_DEBUG=true for local development."
        )
    # Development only: a random key made on first run and kept (gitignored) for this checkout,
    # so sessions and tokens survive restarts and nobody else knows the key.
    _dev_key_file = BASE_DIR / ".tmp" / "dev-secret-key"
    try:
        SECRET_KEY = load_or_create_dev_secret_key(_dev_key_file)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is not set and the development key file {_dev_key_file} cannot "
            f"be written ({exc.strerror}). Set DJANGO_SECRET_KEY."
        ) from None

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")

# Public base URL of this API (used for absolute links handed to third parties).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Public base URL of the Vue storefront (Alipay sends the buyer back there). Django serves the
# built storefront itself (web/dist at /), so by default it is this same site.
FRONTEND_URL = (os.environ.get("FRONTEND_URL", "").strip() or SITE_URL).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",  # logout, rotation, password change
    "axes",  # admin login lockout (AXES_* below)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served by us, not fetched from a CDN
    "nested_admin",  # chapters with their sections on the course page
    "apps.dashboard",  # the admin's front page: sales at a glance; admin header and links
    "apps.user",
    "apps.course",
    "apps.order",
    "apps.promotion",
    "apps.home",
    "apps.coupon",
    "apps.health",
    "utils",  # the throttle counters' table
]

MIDDLEWARE = [
    "utils.request_id.RequestIdMiddleware",  # outermost: every answer and log line has the id
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, which answers /index.html itself: every HTML answer gets the CSP and
    # X-Frame-Options (utils/security_headers.py).
    "utils.security_headers.SecurityHeadersMiddleware",
    "utils.storefront.StorefrontWhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Admin login attempts of one IP or account wait for each other (apps/user/lockout.py).
    "apps.user.lockout.AdminLoginGateMiddleware",
    # Last, as django-axes asks: turns a locked-out admin login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "luffy_api.urls"
WSGI_APPLICATION = "luffy_api.wsgi.application"
ASGI_APPLICATION = "luffy_api.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# DATABASE_URL: unset → SQLite file in the project; mysql://user:pass@host:port/name → MySQL or
# MariaDB through mysqlclient, always utf8mb4 and strict mode.
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
if _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            "isolation_level": "read committed",
        }
    )
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has one writer at a time. A deferred transaction that reads and then writes fails
    # at once with "database is locked" when another writer got in between (waiting could
    # deadlock), so every transaction takes the write lock when it begins (IMMEDIATE) and waits
    # up to SQLITE_BUSY_TIMEOUT_SECONDS for it; WAL lets readers run while someone writes. Still
    # busy after that: the API answers a retryable 503 (utils/exceptions.py). synchronous=NORMAL
    # survives a crash of the app; a power cut may lose the last commits (SQLite is for `make run`).
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------------------------
# The database cache is shared by every worker process: the catalog version lives there, so an
# edit reaches every worker's page cache. CACHE_URL=locmem:// selects a per-process cache
# (single-process development only); CACHE_URL=redis://host:port/db Django's Redis cache
# (production, and more than one app node). Throttles count atomically in Redis when the
# cache is Redis, in their own table otherwise (utils/throttling.py).
_cache_url = os.environ.get("CACHE_URL", "db://").strip()
if _cache_url.startswith("locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif _cache_url.startswith("db://"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "luffy_cache",
        }
    }
elif _cache_url.startswith(("redis://", "rediss://", "unix://")):
    # Several app nodes: one Redis shared by all of them (throttles, catalog version).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "luffy"),
        }
    }
else:
    raise ImproperlyConfigured(
        f"CACHE_URL must be db://, locmem:// or redis://host:port/db, got {_cache_url!r}."
    )
# Rendered catalog pages for anonymous visitors, per worker process (apps/course/cache.py).
CACHES["catalog"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "luffy-catalog",
    "OPTIONS": {"MAX_ENTRIES": 5000},
}
CATALOG_CACHE_SECONDS = env_int("CATALOG_CACHE_SECONDS", 60)  # 0 turns the page cache off
CATALOG_VERSION_CHECK_SECONDS = env_int("CATALOG_VERSION_CHECK_SECONDS", 1)
# Longest life of a course document (apps/course/documents.py); 0 serves detail/chapters fresh.
CATALOG_DOCUMENT_SECONDS = env_int("CATALOG_DOCUMENT_SECONDS", 86400)

# --- Search -------------------------------------------------------------------------------------
# SEARCH_BACKEND: like (default) scans name and brief with LIKE; mroonga narrows with a Mroonga
# full-text index on MariaDB first (apps/course/search/, docs/deploying.md). Same results.
SEARCH_BACKEND = env_str("SEARCH_BACKEND", "like").lower()
if SEARCH_BACKEND not in {"like", "mroonga"}:
    raise ImproperlyConfigured(f"SEARCH_BACKEND must be like or mroonga, got {SEARCH_BACKEND!r}.")
if SEARCH_BACKEND == "mroonga" and _db["ENGINE"] != "django.db.backends.mysql":
    raise ImproperlyConfigured("SEARCH_BACKEND=mroonga needs a MariaDB DATABASE_URL.")
# SEARCH_ACCELERATORS=false: the mroonga backend counts and pages with plain SQL only, without
# Groonga's select, the word index and the other speed-ups (apps/course/search/accelerators/).
SEARCH_ACCELERATORS = env_bool("SEARCH_ACCELERATORS", True)

# --- Auth ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "user.User"
# Username, mobile or e-mail with a password, for the API and the admin alike. The lockout
# backend comes first (django-axes needs that): it refuses locked-out admin logins before any
# password is checked.
AUTHENTICATION_BACKENDS = [
    "apps.user.backends.LoginLockoutBackend",
    "apps.user.backends.MultiFieldModelBackend",
]
# New and changed passwords are hashed with Argon2id (apps/user/hashers.py: parameters and why);
# the others only check older hashes, which are rehashed with Argon2id at the next good login.
PASSWORD_HASHERS = [
    "apps.user.hashers.LuffyArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password lockout (django-axes, counted in the database so every worker sees the same numbers),
# shared by the admin login and the API's mul_login: ADMIN_LOGIN_FAILURE_LIMIT failures against
# one account, whichever identifier was typed and whatever the client's address, on either
# path, lock both for ADMIN_LOGIN_COOLOFF_MINUTES (429). The admin also locks one client address
# (IPv6: its /64) after as many failures; the API counts addresses with its throttle instead.
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ADMIN_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = "apps.user.lockout.lockout_parameters"
AXES_ONLY_ADMIN_SITE = False  # the API login is locked too (apps/user/lockout.py)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_USERNAME_CALLABLE = "apps.user.lockout.account_key"
AXES_CLIENT_IP_CALLABLE = "apps.user.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "apps.user.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout neither extend it nor add rows: the lock ends on time and a flood
# of guesses stores nothing more.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False

# --- I18N ---------------------------------------------------------------------------------------
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# One language per deployment, never per request: there is no LocaleMiddleware, so the browser's
# Accept-Language is ignored. The storefront (Vue, Chinese) must never receive English API
# messages, and an admin page must never mix languages (Django's English beside our Chinese).
LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "zh-hans", [code for code, _name in LANGUAGES])
TIME_ZONE = "Asia/Shanghai"  # Alipay timestamps are naive Beijing time.
USE_I18N = True
# Our catalogues: zh_Hans for strings written in English in the code and other packages' gaps (our
# msgids are the Chinese text itself); en for every msgid we mark. `make messages` rebuilds them.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = "/static/"
# Where collectstatic writes (and, with DEBUG off, where the manifest of hashed names is read).
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", "").strip() or BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
# Where clients fetch local media (MEDIA_ROOT) from; absolute links in API bodies use it and
# SITE_URL, never the request's Host (utils/public_urls.py). Qiniu links carry QINIU_DOMAIN.
MEDIA_BASE_URL = (os.environ.get("MEDIA_BASE_URL", "").strip() or SITE_URL + MEDIA_URL).rstrip("/")
MEDIA_BASE_URL += "/"
# Media (course and teacher images, avatars, section videos) goes to Qiniu when QINIU_* is set,
# to MEDIA_ROOT otherwise. See libs/qiniu and .env.example.
# A half configuration stops the server here: QiniuConfigError is an ImproperlyConfigured.
QINIU = qiniu_settings_from_env(os.environ)
STORAGES = {
    "default": {
        "BACKEND": "libs.qiniu.storage.QiniuStorage"
        if QINIU
        else "django.core.files.storage.FileSystemStorage"
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# The built Vue storefront (`cd web && npm run build`, done by `make run`): WhiteNoise serves its
# files at /, utils/storefront.py answers index.html for its pages (luffy_api/urls.py).
STOREFRONT_DIR = BASE_DIR / "web" / "dist"
WHITENOISE_ROOT = STOREFRONT_DIR
# Serve MEDIA_ROOT from Django itself (development, and the demo `make run`).
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
# Section videos on local storage (no Qiniu) are only reachable through signed links that name
# the section and the viewer and expire after MEDIA_LINK_TTL seconds; the app checks every
# request (apps/course/media.py). MEDIA_ACCEL_REDIRECT (e.g. /protected-media/): after its
# checks the app hands the file to nginx's internal location of that name (X-Accel-Redirect)
# instead of streaming it itself (deploy/nginx/luffy.conf).
MEDIA_LINK_TTL = env_int("MEDIA_LINK_TTL", 3600)
if MEDIA_LINK_TTL <= 0:
    raise ImproperlyConfigured("MEDIA_LINK_TTL must be a positive number of seconds.")
MEDIA_ACCEL_REDIRECT = env_str("MEDIA_ACCEL_REDIRECT", "")
if MEDIA_ACCEL_REDIRECT and not (
    MEDIA_ACCEL_REDIRECT.startswith("/") and MEDIA_ACCEL_REDIRECT.endswith("/")
):
    raise ImproperlyConfigured(
        f"MEDIA_ACCEL_REDIRECT must be a path starting and ending with /, got "
        f"{MEDIA_ACCEL_REDIRECT!r} (e.g. /protected-media/)."
    )
# Uploads bigger than this are refused before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# --- CORS (the Vue app) -------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list(
    "CORS_ALLOWED_ORIGINS", "http://127.0.0.1:8080,http://localhost:8080" if DEBUG else ""
)

# --- Django REST framework ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "utils.authentication.LuffyJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "utils.pagination.PageNumberPagination",
    "PAGE_SIZE": 10,
    "EXCEPTION_HANDLER": "utils.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "sms_mobile": os.environ.get("THROTTLE_SMS_MOBILE", "1/min"),
        # Codes sent to one mobile in a day, whoever asks (cost, and a victim's phone).
        "sms_mobile_day": os.environ.get("THROTTLE_SMS_MOBILE_DAY", "10/day"),
        "sms_ip": os.environ.get("THROTTLE_SMS_IP", "10/hour"),
        "login": os.environ.get("THROTTLE_LOGIN", "10/min"),
        "anon_check": os.environ.get("THROTTLE_ANON_CHECK", "60/min"),
        "pay_status": os.environ.get("THROTTLE_PAY_STATUS", "60/min"),
    },
    # How many proxies in front of us append to X-Forwarded-For. 0 (default): ignore the header
    # (clients could make it up) and identify clients by their address. None would trust it.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}

SIMPLE_JWT = {
    # Access tokens are short-lived; clients refresh. Every refresh hands out a new refresh token
    # and blacklists the old one, logout blacklists it, and a password change revokes both kinds
    # (the tokens carry a digest of the password hash: CHECK_REVOKE_TOKEN).
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
    # The Vue app sends "Authorization: jwt <token>"; standard clients send "Bearer".
    "AUTH_HEADER_TYPES": ("Bearer", "jwt", "JWT"),
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY", "") or SECRET_KEY,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Luffy course shop API",
    "DESCRIPTION": "Catalog, accounts, orders and Alipay payments for the Luffy Vue app.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # The error envelope and the error statuses each operation can answer (utils/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "utils.schema.document_error_responses",
    ],
}

# --- SMS ----------------------------------------------------------------------------------------
# SMS_BACKEND=log (default: the code goes to the log) or tencent (Tencent Cloud SMS).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "log").strip().lower()
SMS_CODE_TTL_SECONDS = env_int("SMS_CODE_TTL_SECONDS", 300)
SMS_CODE_MAX_ATTEMPTS = env_int("SMS_CODE_MAX_ATTEMPTS", 5)
# Wrong codes for one mobile, across all its codes of the last 24 hours: reaching it locks code
# login, registration and password reset for that mobile until those failures are a day old.
SMS_CHECK_FAILURES_PER_DAY = env_int("SMS_CHECK_FAILURES_PER_DAY", 10)
TENCENT_SMS = tencent_settings_from_env(os.environ)  # checked by the tencent backend

# --- Alipay (libs.iPay) ---------------------------------------------------------------------------
# Keys are PEM text or a path to a PEM file (the *_FILE variants); see .env.example. No app id or
# keys: payments answer "payment not configured" and free orders still work.
# Sandbox by default while debugging only; .env.example leaves both off.
ALIPAY_SANDBOX = env_bool("ALIPAY_SANDBOX", DEBUG)
# The variables for now; checked and frozen into an AlipaySettings at the end of this file, once
# everything that may fill them in (the local cashier in development) has run.
ALIPAY = alipay_env_mapping(
    os.environ,
    sandbox=ALIPAY_SANDBOX,
    notify_url=f"{SITE_URL}/api/v1/order/success/",
    return_url=f"{FRONTEND_URL}/pay/success",
)
ORDER_PAY_TIMEOUT_MINUTES = env_int("ORDER_PAY_TIMEOUT_MINUTES", 15)
# A flash-sale order holds one of few seats: its buyer has this long to pay before it goes back.
FLASH_SALE_PAY_MINUTES = env_int("FLASH_SALE_PAY_MINUTES", 5)
# `manage.py prune_notifications` keeps summaries of refused notifies this many days, and
# verified notifies (evidence for support and accounting) this many days.
ALIPAY_NOTIFY_REJECTED_RETENTION_DAYS = env_int("ALIPAY_NOTIFY_REJECTED_RETENTION_DAYS", 7)
ALIPAY_NOTIFY_VERIFIED_RETENTION_DAYS = env_int("ALIPAY_NOTIFY_VERIFIED_RETENTION_DAYS", 730)

# --- Local Alipay cashier (development only, apps/cashier) ---------------------------------------
# With DEBUG on and no ALIPAY_APP_ID, the pay URL opens a cashier served by this project, which
# signs and checks everything like Alipay with development keys generated into
# LOCAL_CASHIER_KEY_DIR on first run. It accepts any payment: never with DEBUG off.
LOCAL_CASHIER = env_bool("LOCAL_CASHIER", DEBUG and not ALIPAY["APP_ID"])
LOCAL_CASHIER_KEY_DIR = Path(
    os.environ.get("LOCAL_CASHIER_KEY_DIR", "").strip() or BASE_DIR / ".tmp" / "dev-alipay"
)
if LOCAL_CASHIER:
    if not DEBUG:
        raise ImproperlyConfigured(
            "LOCAL_CASHIER is on but DJANGO_DEBUG is off. The local cashier accepts every "
            "payment and must never run in production: unset LOCAL_CASHIER."
        )
    from apps.cashier.devkeys import alipay_overrides, ensure_dev_keys

    INSTALLED_APPS.append("apps.cashier")
    ALIPAY.update(
        alipay_overrides(
            ensure_dev_keys(LOCAL_CASHIER_KEY_DIR), gateway=f"{SITE_URL}/cashier/gateway.do"
        )
    )

# --- Security (production) ----------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# Media answers say what they are, always (utils/media_serve.py): a file must never be sniffed
# into a page on our origin.
SECURE_CONTENT_TYPE_NOSNIFF = True
# Every HTML answer (storefront, admin, API docs, the local cashier) carries this policy and
# X-Frame-Options: DENY (utils/security_headers.py): scripts and styles only from files of this
# site (no inline script, no eval), nothing may frame a page. Media may come from MEDIA_BASE_URL
# and Qiniu's domain; the storefront calls the API at SITE_URL.
_media_origins = [
    origin
    for origin in (origin_of(MEDIA_BASE_URL), origin_of(QINIU.domain) if QINIU else None)
    if origin
]
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", *_media_origins],
    "media-src": ["'self'", *_media_origins],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'", origin_of(SITE_URL) or "'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    # The local cashier's forms post here and go on to the storefront's pay/success page.
    "form-action": ["'self'", origin_of(FRONTEND_URL) or "'self'"],
    "frame-ancestors": ["'none'"],
}
X_FRAME_OPTIONS = "DENY"

# /health/ready/ reuses its last results this many seconds per process (apps/health/views.py).
HEALTH_READY_CACHE_SECONDS = env_int("HEALTH_READY_CACHE_SECONDS", 5)
# Alipay's notify comes over plain HTTP in sandbox setups; keep it reachable.
# Load balancers probe /health/ over plain HTTP on the node's own port.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/order/success/$", r"^health/"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- Logging ------------------------------------------------------------------------------------
# One handler on the root logger, and every logger propagates to it: Django's own default config
# also gives the `django` logger a console handler (DEBUG only) and `django.server` one, which
# printed each of their lines twice or in another format. LOG_FORMAT=json: one JSON object a line.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain").strip().lower() or "plain"
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "utils.logging.RequestIdFilter"},
        "refused_host": {"()": "utils.logging.RefusedHostFilter"},
    },
    "formatters": {
        "plain": {"()": "utils.logging.PlainFormatter"},
        "json": {"()": "utils.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.security.DisallowedHost": {"filters": ["refused_host"]},
        "django.db.backends": {"level": "WARNING"},
        "luffy": {"level": LOG_LEVEL, "propagate": True},
    },
}

# --- Providers, checked -------------------------------------------------------------------------
# settings.ALIPAY is an AlipaySettings, or None when Alipay is not configured: a half or unusable
# configuration stops the server here, naming the variable to fix (libs/iPay/config.py).
ALIPAY = alipay_settings_from_mapping(ALIPAY)
