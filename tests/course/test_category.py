import pytest

from tests.factories import CategoryFactory

from .helpers import CATEGORY_URL

pytestmark = pytest.mark.django_db


def test_lists_shown_categories_in_orders_order(api_client):
    third = CategoryFactory(name="Go", orders=3)
    first = CategoryFactory(name="Python", orders=1)
    second_b = CategoryFactory(name="Linux", orders=2)
    second_a = CategoryFactory(name="前端", orders=2)
    CategoryFactory(name="hidden", orders=0, is_show=False)
    CategoryFactory(name="deleted", orders=0, is_delete=True)

    response = api_client.get(CATEGORY_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 100
    assert isinstance(body["msg"], str)
    # Same `orders`: the older (lower id) category first.
    assert body["result"] == [
        {"id": first.pk, "name": "Python"},
        {"id": second_b.pk, "name": "Linux"},
        {"id": second_a.pk, "name": "前端"},
        {"id": third.pk, "name": "Go"},
    ]


def test_no_categories_is_an_empty_result(api_client):
    CategoryFactory(is_show=False)

    response = api_client.get(CATEGORY_URL)

    assert response.status_code == 200
    assert response.json()["result"] == []


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_category_is_read_only(api_client, method):
    response = getattr(api_client, method)(CATEGORY_URL, {"name": "x"}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == 405
