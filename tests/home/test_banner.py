"""GET /api/v1/home/banner/: shown banners in staff's order, absolute image URLs, one query."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from apps.home.models import Banner
from tests.factories import BannerFactory, UserFactory

URL = "/api/v1/home/banner/"
pytestmark = pytest.mark.django_db


def test_shown_banners_come_in_staff_order_with_absolute_image_urls(api_client):
    second = BannerFactory(title="第二", orders=2, link="/course/2")
    first = BannerFactory(title="第一", orders=1, link="https://example.com/x")
    BannerFactory(title="隐藏", orders=0, is_show=False)

    body = api_client.get(URL).json()

    assert body["code"] == 100 and body["msg"]
    assert [b["title"] for b in body["result"]] == ["第一", "第二"]
    assert body["result"][0] == {
        "id": first.pk,
        "title": "第一",
        "image": f"http://testserver/media/{first.image.name}",
        "link": "https://example.com/x",
    }
    assert body["result"][1]["id"] == second.pk


def test_no_banner_gives_an_empty_list(api_client):
    assert api_client.get(URL).json() == {"code": 100, "msg": "成功", "result": []}


def test_the_banner_list_is_one_query_however_many_banners(api_client, django_assert_num_queries):
    BannerFactory.create_batch(8)

    with django_assert_num_queries(1):
        response = api_client.get(URL)

    assert len(response.json()["result"]) == 8


def test_writing_to_the_banner_list_is_refused_in_the_envelope(api_client):
    response = api_client.post(URL, {"title": "x"}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == 405
    assert not Banner.objects.exists()


def test_the_schema_documents_the_banner_list(api_client):
    schema = api_client.get("/api/schema/?format=json").json()

    answer = schema["paths"]["/api/v1/home/banner/"]["get"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][ref]["properties"]) == {"code", "msg", "result"}


def test_staff_see_a_preview_of_each_banner_in_the_admin():
    banner = BannerFactory()
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)

    listing = client.get("/admin/home/banner/")
    change = client.get(f"/admin/home/banner/{banner.pk}/change/")

    assert listing.status_code == change.status_code == 200
    assert f'<img src="/media/{banner.image.name}"' in listing.content.decode()
    assert f'<img src="/media/{banner.image.name}"' in change.content.decode()


# --- where a banner may send a click ----------------------------------------------------------

SAFE_LINKS = ["", "/course/3", "/free?page=2#top", "https://example.com/x", "http://a.example/"]
UNSAFE_LINKS = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/",
    "/\\evil.example/",
    "ftp://example.com/x",
    "course/3",
]


@pytest.mark.parametrize("link", SAFE_LINKS)
def test_a_shop_path_or_an_http_url_is_a_valid_banner_link(link):
    BannerFactory.build(link=link).full_clean(exclude=["image"])


@pytest.mark.parametrize("link", UNSAFE_LINKS)
def test_any_other_banner_link_is_refused_by_the_model(link):
    with pytest.raises(ValidationError) as refused:
        BannerFactory.build(link=link).full_clean(exclude=["image"])
    assert "link" in refused.value.message_dict


def test_staff_get_a_clear_form_error_for_a_javascript_link(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    banner = BannerFactory(link="/course/1")
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        f"/admin/home/banner/{banner.pk}/change/",
        {"title": banner.title, "link": "javascript:alert(1)", "orders": 0, "is_show": "on"},
    )

    assert response.status_code == 200  # the form again, with the error
    assert "链接只能是站内路径" in response.content.decode()
    banner.refresh_from_db()
    assert banner.link == "/course/1"


def test_a_bad_link_saved_before_the_check_is_never_handed_to_the_storefront(api_client):
    Banner.objects.filter(pk=BannerFactory(link="/x").pk).update(link="javascript:alert(1)")

    [banner] = api_client.get(URL).json()["result"]

    assert banner["link"] == ""
