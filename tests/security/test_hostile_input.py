"""What attackers send, and what they get: a clean 4xx (Alipay's notify: `failure`), and no change.

The attacker's-eye summary. Every attack here is checked for its effect, not only its answer: an
error envelope, and orders, grants, student counts, users, SMS codes exactly as before. The
endpoint-by-endpoint cases (garbage JSON, each malformed field, each bad token on /me, ...) live
with their apps' tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from itertools import cycle
from urllib.parse import urlencode

import jwt
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.course.models import Course
from apps.order.models import CourseEntitlement, Order, OrderDetail, PaymentNotification
from apps.user.models import SmsCode, User
from apps.user.throttles import LoginIpThrottle, SmsIpThrottle
from tests.conftest import access_token
from tests.course.helpers import LIST_URL, SEARCH_URL
from tests.factories import TEST_PASSWORD, CourseFactory, UserFactory
from tests.order.conftest import PAY_URL, post_form, signed_notify
from tests.support.alipay import generate_keypair, sign_notify
from tests.user.helpers import (
    ME_URL,
    MOBILE_LOGIN_URL,
    MUL_LOGIN_URL,
    REGISTER_URL,
    assert_error,
    send_sms,
)

pytestmark = pytest.mark.django_db

ORDERS_URL = "/api/v1/order/"
OWNED_URL = "/api/v1/user/courses/"


def state() -> dict[str, list]:
    """Everything an attack could change: money, grants, accounts, codes."""
    return {
        "orders": list(
            Order.objects.order_by("pk").values_list(
                "pk", "order_status", "total_amount", "trade_no", "pay_time", "user_id"
            )
        ),
        "details": list(OrderDetail.objects.order_by("pk").values_list("pk", "real_price")),
        "grants": list(
            CourseEntitlement.objects.order_by("pk").values_list("user_id", "course_id")
        ),
        "students": list(Course.objects.order_by("pk").values_list("pk", "students")),
        "users": list(
            User.objects.order_by("pk").values_list("pk", "password", "last_login", "is_active")
        ),
        "sms_codes": list(SmsCode.objects.order_by("pk").values_list("pk", "attempts", "used_at")),
    }


@contextmanager
def nothing_changes() -> Iterator[None]:
    before = state()
    yield
    assert state() == before


def rate(throttle: type[SimpleRateThrottle]) -> tuple[int, int]:
    """(requests, seconds) of a throttle as configured (the THROTTLE_* variables)."""
    configured = throttle()
    return configured.num_requests, configured.duration


def client_with(header: str | None) -> APIClient:
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


# --- Bodies built to hurt the parser ------------------------------------------------------------

BODY_URLS = [
    pytest.param(PAY_URL, id="pay"),
    pytest.param(MOBILE_LOGIN_URL, id="mobile_login"),
    pytest.param(REGISTER_URL, id="mobile_register"),
]


@pytest.mark.parametrize("url", BODY_URLS)
@pytest.mark.parametrize("encoding", ["json", "form"])
def test_a_body_over_the_upload_limit_is_413(auth_client, course, settings, url, encoding):
    fields = {"courses": course.pk, "total_amount": "99.90", "mobile": "13712345678"}
    fields["code"] = "1" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    if encoding == "json":
        body, content_type = json.dumps(fields), "application/json"
    else:
        body, content_type = urlencode(fields), "application/x-www-form-urlencoded"
    with nothing_changes():
        response = auth_client.generic("POST", url, body, content_type=content_type)
    assert_error(response, 413)


NESTED = [
    pytest.param("[" * 100_000 + "]" * 100_000, id="array-100k-deep"),
    pytest.param('{"a": ' * 100_000 + "1" + "}" * 100_000, id="object-100k-deep"),
    pytest.param(
        '{"courses": ' + "[" * 100_000 + "1" + "]" * 100_000 + ', "total_amount": "1"}',
        id="100k-deep-in-a-field",
    ),
    pytest.param(
        '{"courses": ' + "[" * 500 + "1" + "]" * 500 + ', "mobile": ' + "[" * 500 + "]" * 500 + "}",
        id="500-deep-parses-then-fails-validation",
    ),
]


@pytest.mark.parametrize("url", BODY_URLS)
@pytest.mark.parametrize("body", NESTED)
def test_deeply_nested_json_is_400(auth_client, course, url, body):
    with nothing_changes():
        response = auth_client.generic("POST", url, body, content_type="application/json")
    assert_error(response, 400)


# --- Money ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        pytest.param(-1, id="-1"),
        pytest.param("-0.01", id="minus-a-cent"),
        pytest.param(1e30, id="1e30"),
        pytest.param("1e30", id="1e30-string"),
        pytest.param("99999999999.99", id="99999999999.99"),
        pytest.param(1e-9, id="1e-9"),
        pytest.param("0.000000001", id="nano-yuan-string"),
        pytest.param("Infinity", id="infinity"),
    ],
)
def test_absurd_totals_place_no_order(alipay, auth_client, course, amount):
    """A paid course and Alipay configured: any total the server accepted would be an order."""
    payload = {"courses": [course.pk], "total_amount": amount}
    with nothing_changes():
        response = auth_client.post(PAY_URL, payload, format="json")
    assert_error(response, 400, field="total_amount")


# --- Injection in the catalog's query strings ---------------------------------------------------

INJECTIONS = [
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%",
    "_",
    "\\",
    "1; DROP TABLE luffy_course",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_and_html_search_words_are_plain_text_that_matches_nothing(api_client, text):
    CourseFactory.create_batch(3, brief="An ordinary course")
    with nothing_changes():
        response = api_client.get(SEARCH_URL, {"search": text})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["results"]) == (0, [])


@pytest.mark.parametrize("url", [LIST_URL, SEARCH_URL])
@pytest.mark.parametrize(
    "param", ["course_category", "course_type", "min_price", "max_price", "ordering"]
)
def test_sql_and_html_in_catalog_filters_are_400(api_client, url, param):
    CourseFactory.create_batch(3)
    for text in INJECTIONS:
        with nothing_changes():
            response = api_client.get(url, {"search": "课程", param: text})
        assert_error(response, 400)


# --- Forged and stale tokens against the endpoints that matter ----------------------------------


def forged_access_token(kind: str, victim: User) -> str:
    """A token that names `victim` but must not pass for them."""
    claims = AccessToken.for_user(victim).payload
    if kind == "wrong-signature":
        return jwt.encode(claims, "an-attackers-own-signing-key-0123456789", algorithm="HS256")
    if kind == "alg-none":
        return jwt.encode(claims, None, algorithm="none")
    if kind == "tampered-user-id":
        # The attacker's genuine token, its payload edited to name the victim.
        header, _, signature = access_token(UserFactory()).split(".")
        body = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
        return f"{header}.{body}.{signature}"
    if kind == "refresh-token-as-access":
        return str(RefreshToken.for_user(victim))
    if kind == "expired":
        token = AccessToken.for_user(victim)
        token.set_exp(lifetime=-timedelta(seconds=1))
        return str(token)
    raise ValueError(kind)


FORGERIES = [
    "wrong-signature",
    "alg-none",
    "tampered-user-id",
    "refresh-token-as-access",
    "expired",
]
# (method, url) of everything a stolen identity is good for; {no} is the victim's order.
PROTECTED = [
    pytest.param("post", PAY_URL, id="pay"),
    pytest.param("post", ORDERS_URL + "{no}/cancel/", id="cancel"),
    pytest.param("get", ORDERS_URL, id="orders"),
    pytest.param("get", ORDERS_URL + "{no}/", id="order"),
    pytest.param("get", OWNED_URL, id="owned-courses"),
    pytest.param("get", ME_URL, id="me"),
]


@pytest.fixture
def victims_order(make_order, course) -> Order:
    """`user` (the victim) has an unpaid order for `course`."""
    return make_order([course])


def attack(client: APIClient, method: str, url: str, order: Order, course):
    url = url.format(no=order.out_trade_no)
    if method == "post":
        return client.post(url, {"courses": [course.pk], "total_amount": "99.90"}, format="json")
    return client.get(url)


def assert_refused(response) -> None:
    body = assert_error(response, 401)
    assert set(body) == {"code", "msg"}  # nothing of the account
    assert response.has_header("WWW-Authenticate")


@pytest.mark.parametrize("kind", FORGERIES)
@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_forged_or_stale_tokens_are_401(user, victims_order, course, kind, method, url):
    client = client_with(f"jwt {forged_access_token(kind, user)}")
    with nothing_changes():
        assert_refused(attack(client, method, url, victims_order, course))


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_the_token_of_a_deactivated_account_is_401(user, victims_order, course, method, url):
    client = client_with(f"jwt {access_token(user)}")
    User.objects.filter(pk=user.pk).update(is_active=False)
    with nothing_changes():
        assert_refused(attack(client, method, url, victims_order, course))


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_the_token_of_a_deleted_account_is_401(victims_order, course, method, url):
    gone = UserFactory()
    client = client_with(f"jwt {access_token(gone)}")
    gone.delete()
    with nothing_changes():
        assert_refused(attack(client, method, url, victims_order, course))


# --- Guessing and flooding ----------------------------------------------------------------------


def test_password_guessing_is_locked_out_even_for_the_right_password(api_client, user, monkeypatch):
    limit, window = rate(LoginIpThrottle)
    assert limit == settings.AXES_FAILURE_LIMIT  # both limits are reached by the same guess
    identities = cycle([user.username, user.mobile, user.email])
    for n in range(limit):  # JSON or form, by username, mobile or e-mail: every guess counts
        guess = {"username": next(identities), "password": f"guess-{n}"}
        response = api_client.post(MUL_LOGIN_URL, guess, format="json" if n % 2 else "multipart")
        assert_error(response, 400 if n < limit - 1 else 429)  # the last one locks the account

    right = {"username": user.username, "password": TEST_PASSWORD}
    with nothing_changes():
        for _ in range(3):
            body = assert_error(api_client.post(MUL_LOGIN_URL, right, format="json"), 429)
            assert body["wait"] > 0 and "token" not in body
        # From another address too: the account is locked, whoever asks.
        other = api_client.post(MUL_LOGIN_URL, right, format="json", REMOTE_ADDR="10.7.7.7")
        assert_error(other, 429)

    # The locks hold for the address's window and the account's cool-off, not for ever.
    later = time.time() + window + 1
    monkeypatch.setattr(LoginIpThrottle, "timer", lambda self: later)
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    response = api_client.post(MUL_LOGIN_URL, right, format="json")
    assert response.status_code == 200 and response.json()["token"]


def test_one_phone_bombed_from_many_addresses_gets_one_code(api_client, sms_log):
    victim = "13712345678"
    statuses = [
        send_sms(api_client, victim, REMOTE_ADDR=f"127.0.0.{n}").status_code for n in range(1, 21)
    ]
    assert statuses == [200] + [429] * 19
    assert SmsCode.objects.filter(mobile=victim).count() == 1
    assert len(sms_log()) == 1


def test_one_address_spraying_many_phones_is_cut_off(api_client, sms_log):
    limit, window = rate(SmsIpThrottle)
    mobiles = [f"1370000{n:04d}" for n in range(limit + 15)]
    for mobile in mobiles[:limit]:
        assert send_sms(api_client, mobile).status_code == 200
    with nothing_changes():
        for mobile in mobiles[limit:]:
            body = assert_error(send_sms(api_client, mobile), 429)
            assert window - 60 < body["wait"] <= window
    assert len(sms_log()) == SmsCode.objects.count() == limit


def test_a_flood_of_forged_notifies_changes_nothing_and_the_real_one_still_settles(
    alipay_keys, send_notify, victims_order, user, course, caplog
):
    order = victims_order
    stranger = generate_keypair()
    genuine = signed_notify(alipay_keys, order)
    forgeries = cycle(
        [
            sign_notify(genuine, stranger.private_pem),  # signed, by someone else
            {**genuine, "total_amount": "0.01"},  # signed, then the amount changed
            {**genuine, "trade_status": "TRADE_CLOSED"},  # signed, then the status changed
            {k: v for k, v in genuine.items() if k != "sign"},  # unsigned
            {**genuine, "sign": "QUJD"},  # garbage signature
            {**genuine, "sign_type": "RSA"},  # RSA1 downgrade
        ]
    )
    caplog.set_level("WARNING", logger="luffy.order.notify")
    client = APIClient()

    with nothing_changes():
        for _ in range(50):
            response = post_form(client, next(forgeries))
            assert (response.status_code, response.content) == (400, b"failure")

    log = PaymentNotification.objects.all()
    assert log.count() == 50
    assert set(log.values_list("outcome", "verified")) == {
        (PaymentNotification.Outcome.REJECTED, False)
    }
    rejected = [r for r in caplog.records if "rejected signature does not verify" in r.getMessage()]
    assert len(rejected) == 50

    response = send_notify(order, client=client)
    assert (response.status_code, response.content) == (200, b"success")
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert CourseEntitlement.objects.filter(user=user, course=course).exists()
