"""A course card says whether the logged-in shopper owns it (the storefront then offers 继续学习
instead of the price), in the list, the search and the teacher page: one lookup for the whole
page, and the pages every visitor shares stay the same bytes for everyone."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from apps.order.models import CourseEntitlement
from tests.factories import CourseFactory, TeacherFactory

from .helpers import LIST_URL, SEARCH_URL, course_with_sections
from .test_query_counts import LIST_QUERIES

pytestmark = pytest.mark.django_db

LOGIN = 1  # the token's user
OWNED_LOOKUP = 1  # which of the page's courses the user owns: one query, whatever the page size


@pytest.fixture
def courses(db):
    teacher = TeacherFactory()
    return [CourseFactory(name=f"Owned test {i}", teacher=teacher) for i in range(3)]


@pytest.fixture
def owned(user, courses):
    CourseEntitlement.objects.create(user=user, course=courses[1])
    return courses[1]


def flags(response) -> dict[int, bool]:
    assert response.status_code == 200, response.content
    body = response.json()
    cards = body["courses"] if "courses" in body else body["results"]
    return {card["id"]: card["owned"] for card in cards}


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (LIST_URL, {}),
        (LIST_URL, {"ordering": "-price", "course_type": "actual"}),
        (SEARCH_URL, {"search": "owned test"}),  # the index alone answers it
        (SEARCH_URL, {"search": "owned test", "ordering": "-price"}),  # the database does
    ],
    ids=["list", "list-filtered", "search", "search-ordered"],
)
def test_the_owner_sees_owned_on_their_course_only(auth_client, api_client, owned, url, params):
    mine = flags(auth_client.get(url, params))
    anonymous = flags(api_client.get(url, params))

    assert mine[owned.pk] is True
    assert [pk for pk, flag in mine.items() if flag] == [owned.pk]
    assert set(anonymous) == set(mine)
    assert not any(anonymous.values())


def test_the_teacher_page_marks_the_owned_course(auth_client, owned):
    response = auth_client.get(f"/api/v1/course/teacher/{owned.teacher_id}/")

    assert [pk for pk, flag in flags(response).items() if flag] == [owned.pk]


def test_the_shared_anonymous_page_never_carries_an_owners_flag(
    settings, auth_client, api_client, owned
):
    settings.CATALOG_CACHE_SECONDS = 60
    caches["catalog"].clear()
    try:
        assert not any(flags(api_client.get(LIST_URL)).values())  # cached now
        assert flags(auth_client.get(LIST_URL))[owned.pk] is True  # not from that cache
        assert not any(flags(api_client.get(LIST_URL)).values())  # nor stored into it
    finally:
        caches["catalog"].clear()


@pytest.mark.parametrize("size", [5, 50])
def test_an_owners_page_costs_one_ownership_lookup_whatever_its_size(
    auth_client, user, size, django_assert_num_queries
):
    created = [course_with_sections(chapters=1, sections=2, name=f"C{i}") for i in range(60)]
    for course in created[::2]:
        CourseEntitlement.objects.create(user=user, course=course)

    with django_assert_num_queries(LIST_QUERIES + LOGIN + OWNED_LOOKUP):
        response = auth_client.get(LIST_URL, {"size": size})

    cards = flags(response)
    assert len(cards) == size
    assert sum(cards.values()) == size // 2 + size % 2
