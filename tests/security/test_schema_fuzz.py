"""Schemathesis over /api/schema/: every operation, anonymous and logged in, in-process.

Each response must not be a 5xx and must be what the schema documents: status code, content type
and body (utils/schema.py documents the error envelope). The data is real — visible courses with
chapters, an unpaid and a paid order of the logged-in user, Alipay on the local gateway — and
generated course ids, order numbers and mobiles are drawn from it part of the time, so lookups
resolve and the success paths run too.

Each operation is one test item, run inside its own transaction and rolled back. Every example
comes from another (loopback) client address, like an attacker with many, so per-address limits
do not hide the views behind 429s; per-mobile SMS limits still trip, and 429 is documented.
Example counts are bounded and generation is deterministic, so the run takes the same time and
finds the same things on every machine.

The schema is loaded when this module is imported (the generated tests are built from it), so
the rows the dictionaries name are created with fixed keys. (schemathesis.pytest.from_fixture
would load it inside each test, but in schemathesis 4.32.5 it renames the running item through
`Node._nodeid`, which pytest 9.2 no longer has.)
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.course.models import Course
from apps.order.models import Order
from luffy_api.wsgi import application
from tests.conftest import access_token
from tests.factories import (
    CategoryFactory,
    ChapterFactory,
    CourseFactory,
    SectionFactory,
    UserFactory,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Per operation and phase: both runs (anonymous, logged in) stay well under a minute on SQLite.
MAX_EXAMPLES = 15

COURSE_IDS = [1, 2, 3, 4]
CATEGORY_IDS = [1, 2]
TRADE_NOS = ["20260101000000000000fuzz00000unpaid", "20260101000000000000fuzz000000paid"]
SHOPPER_MOBILE = "13500000042"
_client_numbers = itertools.count(1)
MOBILES = [SHOPPER_MOBILE, "13712345678"]


def _draw(dictionary: str) -> dict:
    return {"dictionary": dictionary, "probability": 0.5}


CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",  # no .hypothesis/ directory in the work tree
        },
        "dictionaries": {
            "course_ids": {"values": COURSE_IDS},
            "category_ids": {"values": CATEGORY_IDS},
            "trade_nos": {"values": TRADE_NOS},
            "mobiles": {"values": MOBILES},
        },
        "parameters": {
            "path.id": _draw("course_ids"),
            "query.course": _draw("course_ids"),
            "body.courses[*]": _draw("course_ids"),
            "query.course_category": _draw("category_ids"),
            "path.out_trade_no": _draw("trade_nos"),
            "query.out_trade_no": _draw("trade_nos"),
            "query.mobile": _draw("mobiles"),
            "body.mobile": _draw("mobiles"),
        },
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """Requests go through the production WSGI handler, which closes "old" database connections
    around each request; like Django's test client, keep the test's connection (and its
    transaction) instead."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def call_and_validate(case, headers: dict[str, str] | None = None) -> None:
    n = next(_client_numbers) % 65536
    address = f"127.1.{n // 256}.{n % 256}"  # only a WSGI environ value: nothing is sent
    case.call_and_validate(headers=headers, checks=CHECKS, environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def shopper(db):
    return UserFactory(mobile=SHOPPER_MOBILE)


@pytest.fixture
def shop(alipay, make_order, shopper) -> None:
    """Visible courses of each kind with chapters and sections; an unpaid and a paid order."""
    categories = [CategoryFactory(pk=pk) for pk in CATEGORY_IDS]
    kinds = [
        {"price": Decimal("0"), "course_type": Course.CourseType.FREE},
        {"price": Decimal("99.90")},
        {"price": Decimal("199.00"), "discounted": True},
        {"price": Decimal("29.00"), "course_type": Course.CourseType.LIGHT},
    ]
    courses = [
        CourseFactory(pk=pk, course_category=categories[pk % 2], **kind)
        for pk, kind in zip(COURSE_IDS, kinds, strict=True)
    ]
    for course in courses:
        for number in (1, 2):
            chapter = ChapterFactory(course=course, chapter=number)
            SectionFactory(chapter=chapter, orders=1, free_trial=number == 1)
            SectionFactory(chapter=chapter, orders=2)
    orders = [
        make_order([courses[1]], owner=shopper),
        make_order([courses[2]], owner=shopper, status=Order.Status.PAID),
    ]
    for order, trade_no in zip(orders, TRADE_NOS, strict=True):
        Order.objects.filter(pk=order.pk).update(out_trade_no=trade_no)


# The examples of one operation share its test's data and transaction, like requests to a live
# server share its database; that is intended.
SHARED_FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.django_db
@schema.parametrize()
@SHARED_FIXTURES
def test_anonymous(case, shop):
    call_and_validate(case)


@pytest.mark.django_db
@schema.parametrize()
@SHARED_FIXTURES
def test_logged_in(case, shop, shopper):
    call_and_validate(case, headers={"Authorization": f"jwt {access_token(shopper)}"})


def test_the_schema_documents_errors_where_they_can_happen():
    paths = schema.raw_schema["paths"]

    def documented(path: str, method: str) -> set[str]:
        return set(paths[f"/api/v1/{path}"][method]["responses"])

    error = schema.raw_schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "msg", "errors", "wait"}
    assert error["required"] == ["code", "msg"]
    pay = documented("order/pay/", "post")  # 404: a coupon that is not the buyer's
    assert {"200", "201", "400", "401", "403", "404", "409", "413", "415", "503"} == pay
    assert {"400", "413", "415", "429"} <= documented("user/user/mul_login/", "post")
    assert {"400", "401", "404"} <= documented("course/list/{id}/", "get")
    category = documented("course/category/", "get")
    assert "401" in category and "429" not in category  # bad tokens are refused; no throttle
    # Alipay's notify answers `failure` as text whatever goes wrong: left as the view says.
    notify = paths["/api/v1/order/success/"]["post"]["responses"]
    assert set(notify) == {"200", "400", "413", "503"}
    assert all(set(r["content"]) == {"text/plain"} for r in notify.values())
