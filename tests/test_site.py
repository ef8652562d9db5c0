"""The site around the API: schema, docs, admin pages and their static files, JSON 404s."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders


@pytest.mark.django_db
def test_schema_describes_every_endpoint(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = set(response.json()["paths"])
    expected = {
        "/api/v1/user/user/mobile/",
        "/api/v1/user/user/send_sms/",
        "/api/v1/user/user/mul_login/",
        "/api/v1/user/user/mobile_login/",
        "/api/v1/user/user/mobile_register/",
        "/api/v1/user/user/me/",
        "/api/v1/user/token/refresh/",
        "/api/v1/user/courses/",
        "/api/v1/course/category/",
        "/api/v1/course/list/",
        "/api/v1/course/list/{id}/",
        "/api/v1/course/chapter/",
        "/api/v1/course/search/",
        "/api/v1/order/pay/",
        "/api/v1/order/success/",
        "/api/v1/order/",
        "/api/v1/order/{out_trade_no}/",
        "/api/v1/order/{out_trade_no}/cancel/",
    }
    assert expected <= paths, expected - paths


def test_swagger_ui_uses_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn." not in page
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_admin_login_page_and_its_css_are_served(client):
    assert client.get("/admin/login/").status_code == 200
    assert finders.find("admin/css/base.css")


@pytest.mark.django_db
def test_unknown_urls_answer_a_json_404(client):
    response = client.get("/api/v1/nowhere/")
    assert response.status_code == 404
    assert response.json() == {"code": 404, "msg": "未找到"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/nowhere/", "/api/v1/nowhere", "/api/v2/course/list/"])
def test_unknown_api_urls_answer_a_json_404_even_with_debug_on(client, settings, path):
    settings.DEBUG = True
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": 404, "msg": "未找到"}


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_an_api_url_without_its_slash_still_redirects_to_it(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/api/v1/course/list?page=2")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/course/list/?page=2"


@pytest.mark.django_db
def test_a_post_to_an_unknown_api_url_is_a_json_404_not_a_csrf_page():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/api/v1/order/%C2%84/cancel/")
    assert response.status_code == 404
    assert response.json() == {"code": 404, "msg": "未找到"}
