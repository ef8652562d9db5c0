"""GET user/user/mobile/?mobile= : is this number registered?"""

from __future__ import annotations

import pytest

from tests.factories import UserFactory

from .helpers import INVALID_MOBILES, MOBILE_URL, assert_error, assert_ok


@pytest.mark.django_db
def test_registered_mobile_answers_100(api_client, registered_user):
    body = assert_ok(api_client.get(MOBILE_URL, {"mobile": registered_user.mobile}))
    assert body == {"code": 100, "msg": "手机号已注册"}


@pytest.mark.django_db
def test_unregistered_mobile_answers_101(api_client, new_mobile):
    UserFactory()  # someone else is registered
    response = api_client.get(MOBILE_URL, {"mobile": new_mobile})
    assert response.status_code == 200
    assert response.json() == {"code": 101, "msg": "手机号未注册"}


@pytest.mark.django_db
def test_surrounding_whitespace_is_ignored(api_client, registered_user):
    body = assert_ok(api_client.get(MOBILE_URL, {"mobile": f" {registered_user.mobile}\n"}))
    assert body["code"] == 100


@pytest.mark.django_db
@pytest.mark.parametrize("mobile", INVALID_MOBILES)
def test_invalid_mobile_is_400(api_client, mobile):
    assert_error(api_client.get(MOBILE_URL, {"mobile": mobile}), 400, field="mobile")


@pytest.mark.django_db
def test_missing_mobile_is_400(api_client):
    assert_error(api_client.get(MOBILE_URL), 400, field="mobile")


@pytest.mark.django_db
def test_post_is_not_allowed(api_client, new_mobile):
    assert_error(api_client.post(MOBILE_URL, {"mobile": new_mobile}), 405)


@pytest.mark.django_db
def test_throttled_per_ip_at_60_a_minute(api_client, new_mobile):
    for _ in range(60):
        assert api_client.get(MOBILE_URL, {"mobile": new_mobile}).status_code == 200
    body = assert_error(api_client.get(MOBILE_URL, {"mobile": new_mobile}), 429)
    assert 0 < body["wait"] <= 60
    # Another address is counted separately.
    other = api_client.get(MOBILE_URL, {"mobile": new_mobile}, REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 200
