"""Helpers for the local cashier tests: place an order, open its pay URL, press the buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPRedirectHandler, Request, build_opener

import pytest

from apps.order import services as order_services
from tests.factories import CourseFactory, UserFactory


@dataclass(frozen=True)
class Page:
    status: int
    text: str
    location: str = ""

    @property
    def ticket(self) -> str:
        match = re.search(r'name="ticket" value="([^"]+)"', self.text)
        assert match, self.text
        return match.group(1)


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # keep the 302: the test reads its Location


_opener = build_opener(_NoRedirect)


def fetch(url: str, form: dict[str, str] | None = None) -> Page:
    """GET `url` (or POST `form`) over real HTTP like a browser; redirects are not followed."""
    data = urlencode(form).encode() if form is not None else None
    try:
        with _opener.open(Request(url, data=data), timeout=15) as response:  # noqa: S310
            return Page(response.status, response.read().decode())
    except HTTPError as exc:
        return Page(exc.code, exc.read().decode(), exc.headers.get("Location", ""))


@pytest.fixture
def buyer(transactional_db):
    return UserFactory()


@pytest.fixture
def paid_course(transactional_db):
    return CourseFactory(name="Django实战", price=Decimal("99.90"))


@pytest.fixture
def place(local_cashier, buyer, paid_course):
    """Place an order for `paid_course` through services.place_order; returns PlacedOrder."""

    def do(courses=None):
        courses = courses or [paid_course]
        total = sum((c.price for c in courses), Decimal("0.00"))
        return order_services.place_order(
            buyer=buyer, course_ids=[c.pk for c in courses], total_amount=total
        )

    return do
