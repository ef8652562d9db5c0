"""Database trouble in the envelope: a busy SQLite is a retryable 503, anything else a 500."""

from __future__ import annotations

import logging

import pytest
from django.db import OperationalError
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView


class Failing(APIView):
    error: Exception | None = None

    def post(self, request):
        raise self.error


def answer(error: Exception):
    view = Failing.as_view(error=error)
    return view(APIRequestFactory().post("/anything/", {}, format="json"))


def test_database_is_locked_answers_a_503_envelope_with_retry_after():
    response = answer(OperationalError("database is locked"))
    assert response.status_code == 503
    assert response.data == {"code": 503, "msg": "系统繁忙,请稍后重试"}
    assert response["Retry-After"] == "1"


@pytest.mark.parametrize(
    "message",
    ["no such table: luffy_order", "database disk image is malformed", "(2006, 'gone away')"],
)
def test_other_operational_errors_stay_logged_500s(message, caplog):
    with caplog.at_level(logging.ERROR, logger="luffy.errors"):
        response = answer(OperationalError(message))
    assert response.status_code == 500
    assert response.data == {"code": 500, "msg": "服务器内部错误"}
    assert not response.has_header("Retry-After")
    assert any(r.exc_info and message in str(r.exc_info[1]) for r in caplog.records)


def test_malformed_json_is_refused_in_chinese_without_the_parsers_english(api_client):
    response = api_client.post(
        "/api/v1/user/token/refresh/", data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"code": 400, "msg": "请求体不是有效的 JSON"}
