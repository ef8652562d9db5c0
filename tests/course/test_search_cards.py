"""Search pages served from cards: the bytes the serializer gives, for every kind of course, at
every discount boundary, with signed links, and the same answer as DRF for every page and error
(apps/course/document_views.py `SearchFromCards`, apps/course/documents.py `read_cards`)."""

from __future__ import annotations

import itertools
import random
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import TestCase
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer

from apps.course import documents, selectors
from apps.course.models import Course, CourseDocument
from apps.course.serializers import CourseSerializer
from tests.factories import ChapterFactory, CourseFactory, SectionFactory
from tests.support.media import use_qiniu
from tests.support.qiniu import sample_mp4_bytes

from .helpers import SEARCH_URL
from .test_documents import DISCOUNTS, varied_course

pytestmark = pytest.mark.django_db(transaction=True)  # documents are emptied on commit

SIGNED = re.compile(rb"e=(\d+)&token=[^\"&]+")


def serializer_bytes(course_ids: list[int]) -> bytes:
    """What CourseSerializer answers a visitor for these courses (the list's and search's item)."""
    by_id = selectors.visible_courses().in_bulk(course_ids)
    courses = [by_id[pk] for pk in course_ids]
    selectors.attach_section_previews(courses)
    data = CourseSerializer(courses, many=True, context={"owned_course_ids": set()}).data
    return JSONRenderer().render(data)


def card_bytes(course_ids: list[int]) -> bytes:
    cards = documents.read_cards(course_ids)
    return b"[" + b",".join(cards[pk].body for pk in course_ids) + b"]"


def test_cards_are_the_serializers_bytes_for_every_kind_of_course():
    combos = itertools.product(DISCOUNTS, [0, 2], [True, False], [True, False])
    ids = [varied_course(n, *combo).pk for n, combo in enumerate(combos)]

    assert card_bytes(ids) == serializer_bytes(ids)  # built on read
    assert card_bytes(ids) == serializer_bytes(ids)  # read from the table
    assert card_bytes(ids[::-1]) == serializer_bytes(ids[::-1])


def test_a_card_is_stored_as_its_own_value_beside_the_detail():
    course = CourseFactory()
    documents.read_cards([course.pk])  # built with the detail, stored in the course's row
    stored = CourseDocument.objects.get(pk=course.pk)
    assert bytes(stored.card) == serializer_bytes([course.pk])[1:-1]
    assert bytes(stored.detail) != bytes(stored.card)
    assert documents.read(course.pk, documents.DETAIL).body == bytes(stored.detail)


def test_cards_switch_price_and_label_at_each_discount_boundary(monkeypatch):
    now = timezone.now()
    course = CourseFactory(
        discounted=True,
        discount_start=now + timedelta(hours=1),
        discount_end=now + timedelta(hours=2),
    )
    assert card_bytes([course.pk]) == serializer_bytes([course.pk])
    for minutes in (59, 60, 61, 119, 120, 121):  # before, at and after start and end
        moment = now + timedelta(minutes=minutes)
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        assert card_bytes([course.pk]) == serializer_bytes([course.pk]), minutes


def test_cards_of_private_qiniu_links_match_and_never_outlive_half_a_link(
    settings, fake_qiniu, monkeypatch
):
    conf = use_qiniu(settings, fake_qiniu)
    course = CourseFactory()
    section = SectionFactory.build(
        chapter=ChapterFactory(course=course), free_trial=True, section_link=""
    )
    section.video = ContentFile(sample_mp4_bytes(4000), name="trial.mp4")
    section.save()

    served = card_bytes([course.pk])
    assert SIGNED.search(served)
    assert SIGNED.sub(b"signed", served) == SIGNED.sub(b"signed", serializer_bytes([course.pk]))
    built = documents.read_cards([course.pk])[course.pk].expires_at
    assert built <= documents._micros(timezone.now() + timedelta(seconds=conf.link_ttl // 2))
    later = timezone.now() + timedelta(seconds=conf.link_ttl // 2 + 5)
    monkeypatch.setattr(timezone, "now", lambda: later)  # half a link's life later: signed anew
    assert SIGNED.search(card_bytes([course.pk]))
    assert documents.read_cards([course.pk])[course.pk].expires_at > built


def test_hidden_and_deleted_courses_have_no_card():
    shown = CourseFactory()
    hidden, deleted, offline = CourseFactory(), CourseFactory(), CourseFactory()
    ids = [shown.pk, hidden.pk, deleted.pk, offline.pk]
    assert set(documents.read_cards(ids)) == set(ids)
    hidden.is_show = False
    hidden.save()
    deleted.is_delete = True
    deleted.save()
    offline.status = Course.Status.OFFLINE
    offline.save()

    assert set(documents.read_cards(ids)) == {shown.pk}


def test_english_cards_are_never_served_in_place_of_chinese_ones(client):
    course = CourseFactory()
    with translation.override("en"):
        documents.read_cards([course.pk])  # built in the site's language whatever is active
    assert card_bytes([course.pk]) == serializer_bytes([course.pk])


# --- Through the search endpoint (the index answers alone: MariaDB with Mroonga) ----------------


def through_drf(client, settings, params, **headers):
    before = settings.CATALOG_DOCUMENT_SECONDS
    settings.CATALOG_DOCUMENT_SECONDS = 0  # no documents: the serializer answers, as before
    try:
        return client.get(SEARCH_URL, params, **headers)
    finally:
        settings.CATALOG_DOCUMENT_SECONDS = before


def headers(response) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in response.items() if k != "X-Request-ID")  # one a request


def search_catalog() -> list[Course]:
    rng = random.Random("cards")
    with TestCase.captureOnCommitCallbacks(execute=True):
        courses = []
        for number, combo in enumerate(itertools.product(DISCOUNTS, [0, 2], [True, False])):
            course = varied_course(number, *combo, category=rng.random() < 0.5)
            course.name = f"Pythonic {number}" if number % 3 else f"数据分析 {number}"
            course.orders = rng.randrange(5)
            course.save()
            courses.append(course)
    return courses


PAGES = [
    {"search": "pythonic"},
    {"search": "PYTHONIC", "page": "2"},
    {"search": "pythonic", "size": "3", "page": "last"},
    {"search": "pythonic", "page_size": "4", "size": "2", "ordering": "-orders"},
    {"search": "pythonic", "ordering": "orders", "page_size": "500"},
    {"search": "数据分析 pythonic"},
    {"search": "数据分析", "page_size": "x", "page": "1"},
    {"search": "nothing"},
    {"search": "pythonic", "page": "9"},  # past the end: the same 404
    {"search": "pythonic", "page": "0"},
    {"search": "pythonic", "page": "two"},
    {"search": ""},  # the same 400s
    {"search": " ".join(f"w{i}" for i in range(9))},
    {"search": "x" * 101},
    {"search": "pythonic", "ordering": "-price"},  # not the index's: DRF, as before
    {"search": "pythonic", "course_type": "free"},
    {"search": "pythonic", "format": "json"},
]


@pytest.mark.parametrize("params", PAGES, ids=[repr(p)[:40] for p in PAGES])
def test_search_pages_from_cards_are_drfs_bytes_and_headers(mroonga, client, settings, params):
    search_catalog()
    expected = through_drf(client, settings, params)
    for _ in range(2):  # cards built on read, then read from the table
        served = client.get(SEARCH_URL, params)
        assert (served.status_code, served.content) == (expected.status_code, expected.content)
        assert headers(served) == headers(expected)


def test_a_page_from_ready_cards_is_four_queries_whatever_its_size(
    mroonga, client, django_assert_num_queries
):
    search_catalog()
    for size in (3, 8):
        params = {"search": "pythonic", "page_size": str(size), "ordering": "-orders"}
        assert len(client.get(SEARCH_URL, params).json()["results"]) == size  # cards built
        # pending writes?, the count (cached now), the page's ids, the page's documents
        with django_assert_num_queries(4):
            assert len(client.get(SEARCH_URL, params).json()["results"]) == size


def test_a_logged_in_or_english_search_still_goes_through_the_serializer(mroonga, client, settings):
    search_catalog()
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    params = {"search": "pythonic"}
    assert client.get(SEARCH_URL, params, **english).content == (
        through_drf(client, settings, params, **english).content
    )
    assert client.get(SEARCH_URL, params, HTTP_AUTHORIZATION="jwt bad").status_code == 401


def test_an_edit_or_a_course_hidden_after_its_card_shows_on_the_next_page(mroonga, client):
    courses = search_catalog()
    params = {"search": "pythonic", "page_size": "50"}
    before = client.get(SEARCH_URL, params).json()
    first = Course.objects.get(pk=before["results"][0]["id"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        first.brief = "改过的简介"
        first.save()
    after = client.get(SEARCH_URL, params).json()
    assert after["results"][0]["brief"] == "改过的简介"
    with TestCase.captureOnCommitCallbacks(execute=True):
        first.is_show = False
        first.save()
    hidden = client.get(SEARCH_URL, params).json()
    assert hidden["count"] == before["count"] - 1
    assert first.pk not in [c["id"] for c in hidden["results"]]
    assert len(courses) > before["count"]  # some were never found: the words decide


def test_a_page_from_cards_goes_to_the_page_cache_and_leaves_it_on_an_edit(
    mroonga, client, settings, django_assert_num_queries
):
    from django.core.cache import caches

    settings.CATALOG_CACHE_SECONDS = 60
    caches["catalog"].clear()
    courses = search_catalog()
    params = {"search": "pythonic", "ordering": "-orders"}
    first = client.get(SEARCH_URL, params)
    with django_assert_num_queries(0):
        again = client.get(SEARCH_URL, params)
    assert again.content == first.content
    target = next(c for c in courses if c.pk == first.json()["results"][0]["id"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        target.brief = "新的简介"
        target.save()
    assert client.get(SEARCH_URL, params).json()["results"][0]["brief"] == "新的简介"
    caches["catalog"].clear()
