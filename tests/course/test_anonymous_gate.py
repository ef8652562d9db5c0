"""One anonymous-read gate (apps/course/cache.py `anonymous_json_get`) decides for both the page
cache and the course documents which requests get the bytes every visitor gets."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.utils import translation
from rest_framework.request import Request

from apps.course.cache import CachedAnonymousReads, anonymous_json_get

pytestmark = pytest.mark.django_db

CASES = [
    ({}, True),
    ({"HTTP_ACCEPT": "application/json"}, True),
    ({"HTTP_ACCEPT": "*/*"}, True),
    ({"HTTP_ACCEPT": "application/json, text/plain, */*"}, True),
    ({"HTTP_ACCEPT": "application/json; indent=4"}, False),
    ({"HTTP_ACCEPT": "text/html"}, False),
    ({"HTTP_ACCEPT": "application/xml"}, False),
    ({"HTTP_AUTHORIZATION": "Bearer x"}, False),
    ({"QUERY_STRING": "format=json"}, False),
]


@pytest.mark.parametrize(("meta", "expected"), CASES)
def test_the_gate_lets_through_only_plain_anonymous_json_gets(meta, expected):
    request = RequestFactory().get("/api/v1/course/list/", **meta)
    assert anonymous_json_get(request) is expected
    assert anonymous_json_get(RequestFactory().post("/api/v1/course/list/", **meta)) is False


def test_another_language_than_the_sites_is_not_the_shared_answer():
    with translation.override("en"):
        assert anonymous_json_get(RequestFactory().get("/api/v1/course/list/")) is False


@pytest.mark.parametrize(("meta", "expected"), CASES)
def test_the_page_cache_asks_the_same_gate(meta, expected, settings):
    settings.CATALOG_CACHE_SECONDS = 60
    request = Request(RequestFactory().get("/api/v1/course/list/", **meta))
    assert (CachedAnonymousReads()._cache_key(request) is not None) is expected
