"""One language per deployment: real API calls answer Simplified Chinese by default (exactly
today's words, the storefront shows them) and English when the site's language is English, with
no Chinese character left; the browser's Accept-Language changes nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from apps.order.models import PaymentNotification
from apps.order.notify_text import notify_detail_text
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
PASSWORD = "right-password-1"


def wrong_password(client: APIClient) -> dict:
    UserFactory(username="alice", password=PASSWORD)
    response = client.post(
        "/api/v1/user/user/mul_login/", {"username": "alice", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    return response.json()


def invalid_mobile(client: APIClient) -> dict:
    response = client.get("/api/v1/user/user/mobile/", {"mobile": "12345"})
    assert response.status_code == 400
    return response.json()


def search_without_words(client: APIClient) -> dict:
    response = client.get("/api/v1/course/search/", {"search": "  "})
    assert response.status_code == 400
    return response.json()


def pay_for_an_unknown_course(client: APIClient) -> dict:
    client.force_authenticate(UserFactory())
    response = client.post(
        "/api/v1/order/pay/", {"courses": [424242], "total_amount": "1.00"}, format="json"
    )
    assert response.status_code == 400
    return response.json()


def body_too_large(client: APIClient) -> dict:
    from django.conf import settings

    big = json.dumps({"username": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = client.post("/api/v1/user/user/mul_login/", big, content_type="application/json")
    assert response.status_code == 413
    return response.json()


def throttled_sms(client: APIClient) -> dict:
    url, body = "/api/v1/user/user/send_sms/", {"mobile": "13600001111"}
    assert client.post(url, body, format="json").status_code == 200
    response = client.post(url, body, format="json")
    assert response.status_code == 429
    body = response.json()
    body["msg"] = re.sub(r"\d+", "N", body["msg"])  # the seconds left vary
    return body


def unknown_api_path(client: APIClient) -> dict:
    response = client.get("/api/v1/no/such/path/")
    assert response.status_code == 404
    return response.json()


def no_token(client: APIClient) -> dict:
    response = client.get("/api/v1/user/user/me/")
    assert response.status_code == 401
    return response.json()


CALLS = {
    wrong_password: "用户名或密码错误",
    invalid_mobile: "mobile: 请输入有效的中国大陆手机号",
    search_without_words: "search: 请输入搜索内容",
    pay_for_an_unknown_course: "courses: 课程不存在或已下架: 424242",
    body_too_large: "请求体过大",
    throttled_sms: "请求已被限流。 预计 N 秒后可用。",
    unknown_api_path: "未找到",
    no_token: "身份认证信息未提供。",
}
ENGLISH = {
    wrong_password: "Wrong username or password",
    invalid_mobile: "mobile: Please enter a valid mainland China mobile number",
    search_without_words: "search: Please enter something to search for",
    pay_for_an_unknown_course: (
        "courses: These courses do not exist or are no longer sold: 424242"
    ),
    body_too_large: "The request body is too large",
    throttled_sms: "Request was throttled. Expected available in N seconds.",
    unknown_api_path: "Not found",
    no_token: "Authentication credentials were not provided.",
}


def texts(body: dict) -> list[str]:
    """Every piece of text a client could show: msg and every error message."""
    found = [body["msg"]]

    def walk(value) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.append(value)

    walk(body.get("errors", {}))
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("call", list(CALLS), ids=lambda call: call.__name__)
def test_by_default_the_api_answers_todays_chinese_text(call):
    body = call(APIClient())
    assert body["msg"] == CALLS[call]


@pytest.mark.django_db
@pytest.mark.parametrize("call", list(CALLS), ids=lambda call: call.__name__)
def test_in_english_the_api_answers_english_with_no_chinese_character(call):
    with translation.override("en"):
        body = call(APIClient())
    assert body["msg"] == ENGLISH[call]
    assert not [text for text in texts(body) if CJK.search(text)], body


@pytest.mark.django_db
@pytest.mark.parametrize("call", list(CALLS), ids=lambda call: call.__name__)
def test_the_browsers_accept_language_does_not_change_the_language(call):
    """The storefront is Chinese: a browser set to English must still get Chinese messages."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert call(client)["msg"] == CALLS[call]


@pytest.mark.django_db
def test_a_notify_with_a_body_too_large_is_refused_in_alipays_words_and_logged_in_ours(settings):
    """Alipay reads `failure` whatever our language; staff read the logged reason in theirs."""
    big = "f=" + "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            response = APIClient().post(
                "/api/v1/order/success/", big, content_type="application/x-www-form-urlencoded"
            )
        assert (response.status_code, response.content) == (413, b"failure")
    details = [entry.detail for entry in PaymentNotification.objects.order_by("pk")]
    assert details == ["body too large", "body too large"]  # stored as data, not as text
    assert notify_detail_text(details[0]) == "请求体过大"
    with translation.override("en"):
        assert notify_detail_text(details[0]) == "body too large"


def settings_language(**env: str) -> subprocess.CompletedProcess:
    code = "from django.conf import settings; print(settings.LANGUAGE_CODE)"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "LUFFY_IGNORE_DOTENV": "1",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "test-only-secret-key-not-used-anywhere-else-0123456789abcdef",
            "DJANGO_SETTINGS_MODULE": "luffy_api.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_site_speaks_simplified_chinese_unless_the_deployment_says_english():
    assert settings_language().stdout.strip() == "zh-hans"
    assert settings_language(LANGUAGE_CODE="en").stdout.strip() == "en"


def test_a_language_we_have_no_catalogue_for_stops_the_server_at_start():
    result = settings_language(LANGUAGE_CODE="fr")
    assert result.returncode != 0
    assert "LANGUAGE_CODE must be one of zh-hans, en, got 'fr'" in result.stderr


ADMIN_PAGES = [
    "/admin/",
    "/admin/order/order/",
    "/admin/order/order/{order}/change/",
    "/admin/order/order/{order}/refund/",
    "/admin/course/course/add/",
    "/admin/course/course/{course}/change/",
    "/admin/user/user/",
    "/admin/order/paymentnotification/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_an_english_admin_page_has_no_chinese_character(page):
    """The other half of "no page mixes languages" (tests/admin checks the Chinese pages);
    the shop's data is English here, so any Chinese left is ours."""
    from django.test import Client

    from tests.factories import (
        CategoryFactory,
        CourseFactory,
        OrderFactory,
        OrderLineFactory,
        TeacherFactory,
    )

    course = CourseFactory(
        name="Python",
        course_category=CategoryFactory(name="Backend"),
        teacher=TeacherFactory(name="Guido", title="Lecturer"),
        brief="Basics",
    )
    order = OrderFactory(paid=True, subject="Python", total_amount=course.price)
    OrderLineFactory(order=order, course=course, price=course.price, real_price=course.price)
    client = Client()
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))

    with translation.override("en"):
        response = client.get(page.format(order=order.pk, course=course.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert not sorted(set(CJK.findall(html))), [
        line.strip() for line in html.splitlines() if CJK.search(line)
    ][:10]


def test_the_page_for_a_missing_storefront_build_speaks_the_sites_one_language(settings, tmp_path):
    from django.test import Client

    settings.STOREFRONT_DIR = tmp_path / "dist"
    chinese = Client().get("/").content.decode()
    with translation.override("en"):
        english = Client().get("/").content.decode()

    assert '<html lang="zh-hans">' in chinese and "路飞学城的前端还没有构建" in chinese
    assert "has not been built" not in chinese
    assert '<html lang="en">' in english and "has not been built yet" in english
    assert not CJK.search(english)
    assert all("npm run build" in page and "/api/docs/" in page for page in (chinese, english))
