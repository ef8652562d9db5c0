"""Settings for the test suite: production-like (DEBUG off) with test-only secrets.

The environment is fixed here, before the real settings are read, so a developer's `.env` or
shell cannot change what the suite sees. Two variables are passed through: DATABASE_URL selects
SQLite (unset) or the MariaDB server started by `make test`, TEST_CACHE_URL a throwaway Redis
for the shared cache (`make test-redis`), TEST_SEARCH_BACKEND the search backend.
"""

import os
import tempfile

os.environ["LUFFY_IGNORE_DOTENV"] = "1"
os.environ["DJANGO_DEBUG"] = "false"
os.environ["DJANGO_SECRET_KEY"] = "test-only-secret-key-not-used-anywhere-else-0123456789abcdef"
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "false"
os.environ["SITE_URL"] = "http://testserver"
os.environ["SMS_BACKEND"] = "log"
os.environ["LANGUAGE_CODE"] = "zh-hans"  # tests switch to English with override("en")
# The shared cache is the embedded one unless `make test-redis` hands over a throwaway Redis.
os.environ.pop("CACHE_URL", None)
if os.environ.get("TEST_CACHE_URL"):
    os.environ["CACHE_URL"] = os.environ["TEST_CACHE_URL"]
# The anonymous page cache is off unless a test turns it on (tests/course/test_page_cache.py):
# most tests change rows with update() and read the page again at once.
os.environ["CATALOG_CACHE_SECONDS"] = "0"
# Readiness is checked afresh on each request unless a test turns the reuse on
# (tests/health/test_health.py): tests break a dependency and ask again at once.
os.environ["HEALTH_READY_CACHE_SECONDS"] = "0"
# The search backend is LIKE unless `make test-mariadb` asks for the Mroonga index.
os.environ["SEARCH_BACKEND"] = os.environ.get("TEST_SEARCH_BACKEND", "like")

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
MEDIA_ROOT = tempfile.mkdtemp(prefix="luffy-test-media-")
# The suite keeps media on local disk with DEBUG off on purpose; tests/course/test_media_checks.py
# lifts the silence to check the warning that gives in production.
SILENCED_SYSTEM_CHECKS = ["media.W001"]
# The local cashier's tables exist in tests; its URLs only where a test mounts them
# (tests/support/cashier.py), since LOCAL_CASHIER stays off with DEBUG off.
INSTALLED_APPS = [*INSTALLED_APPS, "apps.cashier"]  # noqa: F405
# SQLite: the test database is a file, as `make run`'s is, not Django's default in-memory database.
# The live server's threads (browser tests) share an in-memory database in SQLite's shared-cache
# mode, where two connections touching one table fail at once with "database table is locked"
# instead of waiting out the busy timeout; a file with WAL behaves like the real thing.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.mkdtemp(prefix="luffy-test-db-"), "test.sqlite3")
    }
