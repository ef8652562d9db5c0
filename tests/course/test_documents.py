"""Course documents: anonymous detail and chapters answer the serializers' bytes, and no edit,
payment, discount boundary or signed link's age is ever missed (apps/course/documents.py)."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apps.course import documents
from apps.course.media import local_link
from apps.course.models import Course, CourseChapter, CourseDocument, CourseSection
from apps.order import services
from apps.order.models import CourseEntitlement
from tests.conftest import access_token
from tests.factories import (
    CategoryFactory,
    ChapterFactory,
    CourseFactory,
    SectionFactory,
    TeacherFactory,
    UserFactory,
)
from tests.order.conftest import Keys, alipay_settings, post_form, signed_notify
from tests.support.alipay import generate_keypair
from tests.support.media import use_qiniu
from tests.support.qiniu import sample_mp4_bytes

from .helpers import CHAPTER_URL, assert_error, detail_url

pytestmark = pytest.mark.django_db(transaction=True)  # invalidation happens on commit

NOWHERE = "http://127.0.0.1:9/gateway.do"  # Alipay's gateway: placing an order never calls it
DISCOUNTS = ["none", "running", "over", "to come"]


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def chapters_url(course_id) -> str:
    return f"{CHAPTER_URL}?course={course_id}"


def urls(course_id) -> list[str]:
    return [detail_url(course_id), chapters_url(course_id)]


def fresh(client, settings, url: str):
    """What the endpoint answers without documents (the serializers, as before)."""
    before = settings.CATALOG_DOCUMENT_SECONDS
    settings.CATALOG_DOCUMENT_SECONDS = 0
    try:
        return client.get(url)
    finally:
        settings.CATALOG_DOCUMENT_SECONDS = before


def discount(state: str) -> dict:
    now = timezone.now()
    window = {
        "none": None,
        "running": (now - timedelta(days=1), now + timedelta(days=1)),
        "over": (now - timedelta(days=2), now - timedelta(days=1)),
        "to come": (now + timedelta(days=1), now + timedelta(days=2)),
    }[state]
    if window is None:
        return {}
    return {
        "discount_type": "限时折扣",
        "discount_price": Decimal("49.90"),
        "discount_start": window[0],
        "discount_end": window[1],
    }


def varied_course(number: int, state: str, chapters: int, teacher: bool, category: bool):
    course = CourseFactory(
        name=f'课程 {number} "引号" & <tag>',
        brief="第一行\n第二行 ✓",
        price=Decimal("199.00"),
        students=number,
        teacher=TeacherFactory(image="teacher/t.png") if teacher else None,
        course_category=CategoryFactory() if category else None,
        course_img="courses/c.png" if number % 2 else "",
        **discount(state),
    )
    for index in range(1, chapters + 1):
        chapter = ChapterFactory(course=course, chapter=index, summary="摘要")
        SectionFactory(chapter=chapter, orders=1, free_trial=True, section_link="v/free.mp4")
        SectionFactory(chapter=chapter, orders=2, section_link="v/paid.mp4")
        SectionFactory(chapter=chapter, orders=3, is_show=False)  # hidden: never shown
    if chapters:
        ChapterFactory(course=course, chapter=9, is_show=False)  # hidden chapter
    return course


def test_documents_answer_the_serializers_bytes_for_every_kind_of_course(client, settings):
    combos = itertools.product(DISCOUNTS, [0, 2], [True, False], [True, False])
    courses = [varied_course(n, *combo) for n, combo in enumerate(combos)]

    for course in courses:
        for url in urls(course.pk):
            expected = fresh(client, settings, url)
            assert expected.status_code == 200
            built = client.get(url)  # built on read
            served = client.get(url)  # read from the table
            assert built.content == expected.content, url
            assert served.content == expected.content, url
            assert served["Content-Type"] == expected["Content-Type"]
            assert served["Allow"] == expected["Allow"]

    documents.invalidate([c.pk for c in courses])
    call_command("build_course_documents", verbosity=0)  # the batch builder says the same
    for course in courses:
        stored = CourseDocument.objects.get(pk=course.pk)
        assert bytes(stored.detail) == fresh(client, settings, detail_url(course.pk)).content
        assert bytes(stored.chapters) == fresh(client, settings, chapters_url(course.pk)).content


def test_a_ready_document_costs_one_query(client, django_assert_num_queries):
    course = varied_course(1, "running", 2, True, True)
    call_command("build_course_documents", verbosity=0)

    for url in urls(course.pk):
        with django_assert_num_queries(1):
            assert client.get(url).status_code == 200


SIGNED = re.compile(r"e=(\d+)&token=[^\"&]+")


def test_private_qiniu_documents_match_and_never_outlive_half_a_link(
    client, settings, fake_qiniu, monkeypatch
):
    conf = use_qiniu(settings, fake_qiniu)
    course = CourseFactory()
    chapter = ChapterFactory(course=course)
    section = SectionFactory.build(chapter=chapter, free_trial=True, section_link="")
    section.video = ContentFile(sample_mp4_bytes(4000), name="trial.mp4")
    section.save()

    for url in urls(course.pk):
        expected = fresh(client, settings, url).content.decode()
        served = client.get(url).content.decode()
        assert SIGNED.search(served), url  # the link is signed...
        assert SIGNED.sub("signed", served) == SIGNED.sub("signed", expected)  # ...and alike

    stored = CourseDocument.objects.get(pk=course.pk)
    half_life = timedelta(seconds=conf.link_ttl // 2)
    limit = documents._micros(timezone.now() + half_life)
    assert stored.detail_expires_at <= limit and stored.chapters_expires_at <= limit

    # Half a link's life later both documents are built (signed) anew, without any write.
    later = timezone.now() + half_life + timedelta(seconds=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    for url in urls(course.pk):
        assert SIGNED.search(client.get(url).content.decode()), url
    rebuilt = CourseDocument.objects.get(pk=course.pk)
    assert rebuilt.detail_expires_at > stored.detail_expires_at
    assert rebuilt.chapters_expires_at > stored.chapters_expires_at


def test_a_discount_starting_or_ending_switches_the_price_without_a_write(client, monkeypatch):
    now = timezone.now()
    course = CourseFactory(
        price=Decimal("99.00"),
        discount_type="限时折扣",
        discount_price=Decimal("49.90"),
        discount_start=now + timedelta(hours=1),
        discount_end=now + timedelta(hours=2),
    )
    assert client.get(detail_url(course.pk)).json()["real_price"] == "99.00"
    assert client.get(detail_url(course.pk)).json()["real_price"] == "99.00"  # the document

    for offset, price, label in [(61, "49.90", "限时折扣"), (121, "99.00", "")]:
        moment = now + timedelta(minutes=offset)
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        body = client.get(detail_url(course.pk)).json()
        assert (body["real_price"], body["discount_type"]) == (price, label)
        assert client.get(detail_url(course.pk)).json()["real_price"] == price


def rename(obj, name="改过的名字"):
    obj.name = name
    obj.save()
    return name


def edit_course(course):
    return rename(course)


def edit_chapter(course):
    return rename(course.coursechapters.first())


def edit_section(course):
    return rename(CourseSection.objects.filter(chapter__course=course).first())


def edit_teacher(course):
    return rename(course.teacher)


def edit_category(course):
    return rename(course.course_category)


def make_section_free(course):
    section = CourseSection.objects.get(chapter__course=course, free_trial=False, is_show=True)
    section.free_trial = True
    section.save()
    return local_link(section, None)  # local media: the free trial's signed link


def add_section(course):
    SectionFactory(chapter=course.coursechapters.first(), orders=5, name="新课时")
    return "新课时"


@pytest.mark.parametrize(
    "edit",
    [
        edit_course,
        edit_chapter,
        edit_section,
        edit_teacher,
        edit_category,
        make_section_free,
        add_section,
    ],
)
def test_every_catalog_edit_shows_on_the_next_read(client, edit):
    course = varied_course(1, "none", 1, True, True)
    other = varied_course(2, "none", 1, True, True)  # untouched: keeps its document
    for url in [*urls(course.pk), *urls(other.pk)]:
        client.get(url)
    kept = CourseDocument.objects.get(pk=other.pk).generation

    text = edit(course)

    assert text in client.get(detail_url(course.pk)).content.decode() or text in (
        client.get(chapters_url(course.pk)).content.decode()
    )
    assert CourseDocument.objects.get(pk=other.pk).generation == kept


def test_a_teachers_or_categorys_edit_reaches_all_their_courses(client):
    teacher, category = TeacherFactory(name="旧老师"), CategoryFactory(name="旧分类")
    courses = [CourseFactory(teacher=teacher, course_category=category) for _ in range(3)]
    for course in courses:
        client.get(detail_url(course.pk))

    rename(teacher, "新老师")
    rename(category, "新分类")

    for course in courses:
        body = client.get(detail_url(course.pk)).json()
        assert (body["teacher"]["name"], body["course_category"]["name"]) == ("新老师", "新分类")


def test_deleting_a_teacher_or_category_empties_their_courses_fields(client):
    course = varied_course(1, "none", 0, True, True)
    client.get(detail_url(course.pk))

    course.teacher.delete()
    course.course_category.delete()

    body = client.get(detail_url(course.pk)).json()
    assert body["teacher"] is None and body["course_category"] is None


def test_moving_a_chapter_or_section_changes_both_courses(client):
    source = varied_course(1, "none", 2, False, False)
    target = varied_course(2, "none", 1, False, False)
    for url in [*urls(source.pk), *urls(target.pk)]:
        client.get(url)

    chapter = source.coursechapters.get(chapter=2)
    chapter.course = target
    chapter.save()
    section = CourseSection.objects.filter(chapter__course=source, is_show=True).first()
    section.chapter = target.coursechapters.get(chapter=1)
    section.save()

    for course in (source, target):
        expected = CourseChapter.objects.filter(course=course, is_show=True).count()
        assert len(client.get(chapters_url(course.pk)).json()) == expected
        ids = {
            s["id"] for c in client.get(chapters_url(course.pk)).json() for s in c["coursesections"]
        }
        assert (section.pk in ids) == (course is target)


@pytest.mark.parametrize(
    "hide",
    [
        lambda c: setattr(c, "is_show", False),
        lambda c: setattr(c, "is_delete", True),
        lambda c: setattr(c, "status", Course.Status.OFFLINE),
        None,  # deleted for real
    ],
    ids=["hidden", "soft-deleted", "offline", "deleted"],
)
def test_a_course_taken_off_sale_is_the_same_404_as_before(client, settings, hide):
    course = varied_course(1, "none", 1, False, False)
    pages = urls(course.pk)
    for url in pages:
        client.get(url)

    if hide is None:
        course.delete()
    else:
        hide(course)
        course.save()

    for url in pages:
        body = assert_error(client.get(url), 404)
        assert body == fresh(client, settings, url).json()


def test_unknown_ids_and_bad_parameters_answer_as_before_and_store_nothing(client, settings):
    odd = ["abc", "", "-1", " 1", "%EF%BC%91"]  # %EF%BC%91: a full-width 1
    for url in [detail_url(987654), chapters_url(987654), CHAPTER_URL, *map(chapters_url, odd)]:
        expected = fresh(client, settings, url)
        response = client.get(url)
        assert response.status_code == expected.status_code in (400, 404), url
        assert response.content == expected.content, url
    assert not CourseDocument.objects.exists()


@pytest.fixture(scope="module")
def alipay_keys() -> Keys:
    return Keys(app=generate_keypair(), alipay=generate_keypair())


@pytest.fixture
def alipay(settings, alipay_keys):
    settings.ALIPAY = alipay_settings(alipay_keys, NOWHERE)
    return alipay_keys


def pay(course, keys) -> None:
    buyer = UserFactory()
    order = services.place_order(
        buyer=buyer, course_ids=[course.pk], total_amount=course.real_price
    ).order
    assert post_form(APIClient(), signed_notify(keys, order)).content == b"success"
    assert CourseEntitlement.objects.filter(user=buyer, course=course).exists()


def test_a_payment_shows_in_the_student_count_at_once(client, alipay):
    course = CourseFactory(students=7)
    assert client.get(detail_url(course.pk)).json()["students"] == 7
    assert client.get(detail_url(course.pk)).json()["students"] == 7  # the document

    pay(course, alipay)

    assert client.get(detail_url(course.pk)).json()["students"] == 8


def test_an_owner_still_gets_links_and_a_visitor_never_does(client, alipay):
    course = CourseFactory()
    chapter = ChapterFactory(course=course)
    free = SectionFactory(chapter=chapter, free_trial=True, section_link="v/free.mp4")
    paid = SectionFactory(chapter=chapter, free_trial=False, section_link="v/paid.mp4")
    free_link = local_link(free, None).encode()  # local media: links are signed, name no file
    owner = UserFactory()
    order = services.place_order(
        buyer=owner, course_ids=[course.pk], total_amount=course.real_price
    ).order
    assert post_form(APIClient(), signed_notify(alipay, order)).content == b"success"
    logged_in = APIClient()
    logged_in.credentials(HTTP_AUTHORIZATION=f"jwt {access_token(owner)}")

    for _ in range(2):  # around a visitor's reads, which store the documents
        detail = logged_in.get(detail_url(course.pk)).json()
        assert detail["owned"] is True
        tree = logged_in.get(chapters_url(course.pk)).json()
        links = {s["id"]: s["section_link"] for s in tree[0]["coursesections"]}
        assert links[paid.pk] and "/media/signed/" in links[paid.pk]
        assert links[paid.pk].encode() != free_link
        for url in urls(course.pk):
            body = client.get(url).content
            assert body.count(b"/media/signed/") == body.count(free_link)

    stored = CourseDocument.objects.get(pk=course.pk)
    both = bytes(stored.detail) + bytes(stored.chapters)
    assert both.count(b"/media/signed/") == both.count(free_link) >= 1


def test_a_host_header_never_reaches_a_document(client, settings):
    course = varied_course(1, "none", 1, True, False)  # image, teacher image, free link

    for url in urls(course.pk):
        response = client.get(url, HTTP_HOST="localhost")  # an allowed, foreign host
        assert response.status_code == 200
        assert b"localhost" not in response.content
        assert settings.SITE_URL.encode() in response.content

    stored = CourseDocument.objects.get(pk=course.pk)
    assert b"localhost" not in bytes(stored.detail) + bytes(stored.chapters)


def test_a_change_of_site_url_rebuilds_documents(client, settings):
    course = varied_course(1, "none", 1, True, False)
    assert b"http://testserver/" in client.get(detail_url(course.pk)).content

    settings.SITE_URL = "https://shop.example"
    settings.MEDIA_BASE_URL = "https://shop.example/media/"

    for url in urls(course.pk):
        body = client.get(url).content
        assert b"https://shop.example/media/" in body and b"testserver" not in body


def test_a_build_that_read_before_an_edit_stores_nothing(client):
    course = varied_course(1, "none", 1, False, False)
    client.get(detail_url(course.pk))
    seen = CourseDocument.objects.get(pk=course.pk).generation
    stale = {"detail": b"old", "detail_expires_at": 2**62, "fingerprint": documents.fingerprint()}

    documents.invalidate([course.pk])  # an edit commits while that build runs
    documents._store(course.pk, stale, seen)
    assert CourseDocument.objects.get(pk=course.pk).detail is None

    unseen = varied_course(2, "none", 1, False, False)  # never read: no row yet
    documents.invalidate([unseen.pk])
    documents._store(unseen.pk, stale, None)
    assert CourseDocument.objects.get(pk=unseen.pk).detail is None
    assert client.get(detail_url(unseen.pk)).json()["name"] == unseen.name


def test_other_formats_and_tokens_take_the_usual_path(client, settings):
    course = varied_course(1, "none", 1, False, False)
    client.get(detail_url(course.pk))

    indented = client.get(detail_url(course.pk), HTTP_ACCEPT="application/json; indent=2")
    assert b"\n  " in indented.content  # DRF's renderer answered, as before
    assert client.get(detail_url(course.pk), HTTP_ACCEPT="application/xml").status_code == 406
    assert_error(client.get(detail_url(course.pk), HTTP_AUTHORIZATION="jwt not-a-token"), 401)


def test_the_build_command_builds_every_visible_course_and_empties_the_rest(client, settings):
    shown = varied_course(1, "running", 2, True, True)
    hidden = varied_course(2, "none", 1, False, False)
    client.get(detail_url(hidden.pk))
    Course.objects.filter(pk=hidden.pk).update(is_show=False)  # a bulk write: no signal

    call_command("build_course_documents", verbosity=0)

    assert bytes(CourseDocument.objects.get(pk=shown.pk).detail) == (
        fresh(client, settings, detail_url(shown.pk)).content
    )
    assert CourseDocument.objects.get(pk=hidden.pk).detail is None
    assert_error(client.get(detail_url(hidden.pk)), 404)


def test_a_staff_grant_shows_in_the_student_count_at_once(client):
    course = CourseFactory(students=3)
    client.get(detail_url(course.pk))

    services.grant_course(
        UserFactory(), course=course, staff=UserFactory(is_staff=True), reason="补偿"
    )

    assert client.get(detail_url(course.pk)).json()["students"] == 4
