"""The web app runs with a database user that may only read and write rows (docs/deploying.md,
section 3); schema changes go through deploy/manage.sh with MIGRATE_DATABASE_URL, the
migration user."""

from __future__ import annotations

import json
import os
import subprocess
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import CourseFactory
from tests.support.app_server import (
    GunicornServer,
    http_request,
    production_env,
    run_python,
)
from tests.user.helpers import MUL_LOGIN_URL, SEND_SMS_URL

ROOT = settings.BASE_DIR
APP_GRANTS = "SELECT, INSERT, UPDATE, DELETE"  # what docs/deploying.md gives the app's user
JSON = {"Content-Type": "application/json"}


def _run_manage_sh(env_file, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the project's own script
        [str(ROOT / "deploy" / "manage.sh"), *args],
        env={"PATH": os.environ["PATH"], "LUFFY_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_manage_sh_migrates_with_the_migration_user_and_runs_the_rest_as_the_app(tmp_path):
    app_db, migrate_db = tmp_path / "app.sqlite3", tmp_path / "migrate.sqlite3"
    env_file = tmp_path / "luffy.env"
    env_file.write_text(
        "DJANGO_DEBUG=false\n"
        "DJANGO_SECRET_KEY=manage-sh-test-key-0123456789abcdefghijklmnopqrstuvwxyz\n"
        "DJANGO_ALLOWED_HOSTS=127.0.0.1\n"
        f"MEDIA_ROOT={tmp_path / 'media'}\n"
        f"DATABASE_URL=sqlite:///{app_db}\n"
        f"MIGRATE_DATABASE_URL=sqlite:///{migrate_db}\n"
    )
    show = "from django.db import connection; print(connection.settings_dict['NAME'])"

    migrated = _run_manage_sh(env_file, "migrate", "--noinput", "-v", "0")
    other = _run_manage_sh(env_file, "shell", "-c", show)

    assert migrated.returncode == 0, migrated.stderr
    assert migrate_db.exists() and migrate_db.stat().st_size > 0
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip().splitlines()[-1] == str(app_db)


@pytest.mark.mysql_only
@pytest.mark.django_db(transaction=True)
def test_the_shop_works_with_a_database_user_without_ddl_rights(tmp_path):
    db = connection.settings_dict
    user, password = "luffy_app_dml", "app-dml-password-0123456789"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        cursor.execute(f"GRANT {APP_GRANTS} ON `{db['NAME']}`.* TO '{user}'@'%'")
    try:
        course = CourseFactory(name="Grants Python 入门")
        url = f"mysql://{user}:{quote(password)}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        env = production_env(
            tmp_path, url, SEARCH_BACKEND=settings.SEARCH_BACKEND, CACHE_URL="db://"
        )
        # A staff edit through the ORM as the app's user: the row, the search index, the marks.
        run_python(
            env,
            "import json; from apps.course.models import Course; "
            f"c = Course.objects.get(pk={course.pk}); c.name = 'Grants Python 进阶'; c.save(); "
            "print(json.dumps(c.pk))",
        )
        with GunicornServer(env, tmp_path / "gunicorn.log", workers=1, threads=4) as server:
            search = http_request(
                "GET", server.url + "/api/v1/course/search/?" + urlencode({"search": "进阶"})
            )
            sms = http_request(
                "POST", server.url + SEND_SMS_URL, body='{"mobile": "13711112222"}', headers=JSON
            )
            login = http_request(
                "POST",
                server.url + MUL_LOGIN_URL,
                body='{"username": "nobody", "password": "wrong-password"}',
                headers=JSON,
            )
            ready = http_request("GET", server.url + "/health/ready/")
        assert search.status == 200, search.body
        assert [c["id"] for c in json.loads(search.body)["results"]] == [course.pk]
        assert sms.status == 200, sms.body
        assert login.status == 400, login.body  # the failure was counted (axes' rows)
        assert ready.status == 200, ready.body
        # And it cannot change the schema.
        refused = run_python(
            env,
            "import json\nfrom django.db import connection\n"
            "try:\n    connection.cursor().execute('CREATE TABLE luffy_ddl_probe (id INT)')\n"
            "    print(json.dumps('created'))\n"
            "except Exception as error:\n    print(json.dumps(type(error).__name__))",
        )
        assert refused == "OperationalError"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
