"""The pay request's fast path accepts only what the serializer accepts, and returns the same."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.order.models import Order
from apps.order.serializers import (
    PayRequestSerializer,
    _canonical_pay_request,
    validated_pay_request,
)

# Each field is mostly canonical, so that bodies reach the fast path often, with every kind of
# near miss mixed in (the serializer accepts some of them: it answers those itself).
_ids = st.one_of(
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=-3, max_value=2**53 + 3),
    st.sampled_from([0, 1, 2**53, 2**53 + 1, True, False, 1.0, "7", None, [1]]),
)
_courses = st.one_of(
    st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=4),
    st.lists(_ids, max_size=52),
    _ids,
    st.text(max_size=3),
)
_amounts = st.one_of(
    st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False).map(str),
    st.decimals(min_value=-1, max_value=10**9, places=3, allow_nan=False).map(str),
    st.sampled_from(
        ["99.90", "0.00", "0.01", "12345678.99", "99999999.99", "123456789.00", "99.9", "99",
         "099.90", "99.900", " 99.90", "99.90 ", "-0.00", "1e2", "NaN", "", "９９.９０", "99,90"]
    ),
    st.floats(allow_nan=True),
    st.integers(),
    st.none(),
)  # fmt: skip
_subjects = st.one_of(
    st.text(max_size=160),
    st.text(alphabet=st.sampled_from(" \t\n\u3000\x00a课"), max_size=6),
    st.sampled_from(["", " ", "a ", " a", "x" * 150, "x" * 151, "a\x00b", "a\ud800", "课程"]),
    st.integers(),
    st.booleans(),
    st.none(),
)
_pay_types = st.sampled_from([1, 2, 3, "1", True, 1.0, None, Order.PayType.ALIPAY])
_pay_channels = st.sampled_from(["page", "wap", "WAP", "app", "", 1, None, True, ["wap"]])
_bodies = st.one_of(
    st.fixed_dictionaries(
        {"courses": _courses, "total_amount": _amounts},
        optional={
            "subject": _subjects,
            "pay_type": _pay_types,
            "pay_channel": _pay_channels,
            "other": st.integers(),
        },
    ),
    st.fixed_dictionaries(
        {},
        optional={"courses": _courses, "total_amount": _amounts, "subject": _subjects},
    ),
)


def _through_the_serializer(data) -> dict | None:
    serializer = PayRequestSerializer(data=data)
    return dict(serializer.validated_data) if serializer.is_valid() else None


def _typed(data: dict) -> dict:
    return {
        k: (type(v), v if k != "course_ids" else [(type(i), i) for i in v]) for k, v in data.items()
    }


@settings(
    max_examples=1500,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_bodies)
@example({"courses": [1], "total_amount": "1.00", "subject": "a\x00b"})
@example({"courses": [1], "total_amount": "1.00", "subject": "a\ud800"})
@example({"courses": [1], "total_amount": "1.00", "subject": " a"})
@example({"courses": [1], "total_amount": "1.00", "subject": "a\u3000"})
@example({"courses": [1], "total_amount": "1.00", "subject": "x" * 151})
@example({"courses": list(range(1, 52)), "total_amount": "1.00"})
@example({"courses": [2**53 + 1], "total_amount": "1.00"})
@example({"courses": [True], "total_amount": "1.00"})
@example({"courses": [1], "total_amount": "123456789.00"})
@example({"courses": [1], "total_amount": "1.00", "pay_type": 2})
@example({"courses": [1], "total_amount": "1.00", "pay_type": True})
@example({"courses": [1], "total_amount": "1.00", "pay_channel": "wap"})
@example({"courses": [1], "total_amount": "1.00", "pay_channel": "WAP"})
def test_what_the_fast_path_accepts_the_serializer_accepts_with_the_same_values(body):
    fast = _canonical_pay_request(body)
    if fast is not None:
        slow = _through_the_serializer(body)
        assert slow is not None, body
        assert _typed(fast) == _typed(slow)
        assert fast["total_amount"].as_tuple() == slow["total_amount"].as_tuple()


def test_the_vue_apps_body_takes_the_fast_path_and_equals_the_serializers_result():
    for body in [
        {"courses": [3], "total_amount": "99.90"},
        {"courses": [3, 8], "total_amount": "149.80", "subject": "两门课", "pay_type": 1},
        {"courses": list(range(1, 51)), "total_amount": "0.00", "subject": ""},
        {"courses": [3], "total_amount": "99.90", "pay_channel": "wap"},
    ]:
        fast = _canonical_pay_request(body)
        assert fast is not None
        assert _typed(fast) == _typed(_through_the_serializer(body))
        assert validated_pay_request(body) == fast


def test_every_other_body_is_the_serializers_answer():
    assert _canonical_pay_request({"courses": ["3"], "total_amount": "99.9"}) is None
    assert validated_pay_request({"courses": ["3"], "total_amount": "99.9"}) == {
        "course_ids": [3],
        "total_amount": Decimal("99.90"),
        "subject": "",
        "pay_type": Order.PayType.ALIPAY,
        "pay_channel": "page",
    }
