import pytest
from django.test import Client

from apps.course.models import Course, CourseChapter, CourseSection
from tests.factories import (
    CategoryFactory,
    ChapterFactory,
    CourseFactory,
    SectionFactory,
    TeacherFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MODELS = ["coursecategory", "teacher", "course", "coursechapter", "coursesection"]


@pytest.fixture
def catalog(db):
    course = CourseFactory(name="Admin Django", discounted=True)
    chapter = ChapterFactory(course=course, chapter=1, name="Chapter ORM")
    SectionFactory(chapter=chapter, name="Section QuerySet")
    return course, chapter


def course_form(category, teacher, **overrides) -> dict:
    data = {
        "name": "Added in admin",
        "course_type": "light",
        "course_category": category.pk,
        "teacher": teacher.pk,
        "brief": "made by staff",
        "level": 1,
        "status": 0,
        "pub_date": "2026-01-02",
        "period": 7,
        "price": "19.90",
        "discount_type": "",
        "discount_price": "",
        "discount_start_0": "",
        "discount_start_1": "",
        "discount_end_0": "",
        "discount_end_1": "",
        "students": 0,
        "sections": 2,
        "pub_sections": 1,
        "orders": 5,
        "is_show": "on",
        "coursechapters-TOTAL_FORMS": 2,
        "coursechapters-INITIAL_FORMS": 0,
        "coursechapters-MIN_NUM_FORMS": 0,
        "coursechapters-MAX_NUM_FORMS": 1000,
    }
    for i in range(2):
        data |= {
            f"coursechapters-{i}-chapter": i + 1,
            f"coursechapters-{i}-name": f"inline chapter {i + 1}",
            f"coursechapters-{i}-summary": "",
            f"coursechapters-{i}-orders": 0,
            f"coursechapters-{i}-is_show": "on",
            # Each chapter carries its sections' formset (nested inlines on the course page).
            f"coursechapters-{i}-coursesections-TOTAL_FORMS": 0,
            f"coursechapters-{i}-coursesections-INITIAL_FORMS": 0,
            f"coursechapters-{i}-coursesections-MIN_NUM_FORMS": 0,
            f"coursechapters-{i}-coursesections-MAX_NUM_FORMS": 1000,
        }
    return data | overrides


@pytest.mark.parametrize("model", MODELS)
def test_staff_opens_changelists(staff_client, catalog, model):
    response = staff_client.get(f"/admin/course/{model}/")

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", MODELS)
def test_changelist_search_and_filters(staff_client, catalog, model):
    response = staff_client.get(f"/admin/course/{model}/", {"q": "%_'", "is_show__exact": "1"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


@pytest.mark.parametrize("model", MODELS)
def test_staff_opens_add_forms(staff_client, model):
    assert staff_client.get(f"/admin/course/{model}/add/").status_code == 200


def test_course_change_form_has_chapters_inline(staff_client, catalog):
    course, chapter = catalog

    response = staff_client.get(f"/admin/course/course/{course.pk}/change/")

    assert response.status_code == 200
    (formset,) = response.context["inline_admin_formsets"]
    assert formset.formset.model is CourseChapter
    assert [form.instance for form in formset.formset.forms] == [chapter]
    assert "Chapter ORM" in response.text
    # show_change_link: the chapter row links to the chapter (with its sections).
    assert f"/admin/course/coursechapter/{chapter.pk}/change/" in response.text


def test_chapter_change_form_has_sections_inline(staff_client, catalog):
    _, chapter = catalog

    response = staff_client.get(f"/admin/course/coursechapter/{chapter.pk}/change/")

    assert response.status_code == 200
    (formset,) = response.context["inline_admin_formsets"]
    assert formset.formset.model is CourseSection
    assert "Section QuerySet" in response.text


def test_staff_adds_a_course_with_chapters(staff_client):
    category, teacher = CategoryFactory(), TeacherFactory()

    response = staff_client.post("/admin/course/course/add/", course_form(category, teacher))

    assert response.status_code == 302, response.context and response.context["errors"]
    course = Course.objects.get(name="Added in admin")
    assert course.course_category == category
    assert course.teacher == teacher
    assert str(course.price) == "19.90"
    assert list(course.coursechapters.values_list("chapter", "name")) == [
        (1, "inline chapter 1"),
        (2, "inline chapter 2"),
    ]


def test_staff_adds_a_discounted_course(staff_client):
    data = course_form(
        CategoryFactory(),
        TeacherFactory(),
        discount_type="限时折扣",
        discount_price="9.90",
        discount_start_0="2026-01-01",
        discount_start_1="00:00:00",
        discount_end_0="2026-02-01",
        discount_end_1="00:00:00",
    )

    response = staff_client.post("/admin/course/course/add/", data)

    assert response.status_code == 302
    course = Course.objects.get(name="Added in admin")
    assert str(course.discount_price) == "9.90"
    assert course.discount_start < course.discount_end


@pytest.mark.parametrize(
    "overrides",
    [
        {
            "discount_price": "29.90",
            "discount_start_0": "2026-01-01",
            "discount_end_0": "2026-02-01",
        },
        {"discount_price": "9.90"},
        {
            "discount_price": "9.90",
            "discount_start_0": "2026-02-01",
            "discount_end_0": "2026-01-01",
        },
        {"price": "-1"},
        {"course_type": "bogus"},
    ],
    ids=["above-price", "no-window", "reversed-window", "negative-price", "bad-type"],
)
def test_invalid_course_is_refused_by_the_admin_form(staff_client, overrides):
    times = {"discount_start_1": "00:00:00", "discount_end_1": "00:00:00"}
    data = course_form(CategoryFactory(), TeacherFactory(), **times) | overrides

    response = staff_client.post("/admin/course/course/add/", data)

    assert response.status_code == 200
    assert response.context["errors"]
    assert not Course.objects.exists()
    assert not CourseChapter.objects.exists()


def test_staff_adds_sections_inline_under_a_chapter(staff_client, catalog):
    _, chapter = catalog
    existing = chapter.coursesections.get()
    data = {
        "course": chapter.course_id,
        "chapter": chapter.chapter,
        "name": chapter.name,
        "summary": "",
        "pub_date": "2026-01-02",
        "orders": 0,
        "is_show": "on",
        "coursesections-TOTAL_FORMS": 2,
        "coursesections-INITIAL_FORMS": 1,
        "coursesections-MIN_NUM_FORMS": 0,
        "coursesections-MAX_NUM_FORMS": 1000,
        "coursesections-0-id": existing.pk,
        "coursesections-0-chapter": chapter.pk,
        "coursesections-0-name": existing.name,
        "coursesections-0-section_type": existing.section_type,
        "coursesections-0-section_link": existing.section_link,
        "coursesections-0-duration": existing.duration,
        "coursesections-0-orders": 0,
        "coursesections-0-is_show": "on",
        "coursesections-1-chapter": chapter.pk,
        "coursesections-1-name": "New section",
        "coursesections-1-section_type": 2,
        "coursesections-1-section_link": "v/new.mp4",
        "coursesections-1-duration": "12:00",
        "coursesections-1-free_trial": "on",
        "coursesections-1-orders": 1,
        "coursesections-1-is_show": "on",
    }

    response = staff_client.post(f"/admin/course/coursechapter/{chapter.pk}/change/", data)

    assert response.status_code == 302, response.context and response.context["errors"]
    new = chapter.coursesections.get(name="New section")
    assert new.free_trial is True
    assert chapter.coursesections.count() == 2


def test_autocomplete_finds_teachers(staff_client):
    TeacherFactory(name="Alex")
    TeacherFactory(name="Egon")

    response = staff_client.get(
        "/admin/autocomplete/",
        {"app_label": "course", "model_name": "course", "field_name": "teacher", "term": "ale"},
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Alex"]


@pytest.mark.parametrize("user_kwargs", [None, {"is_staff": False}], ids=["anonymous", "not-staff"])
def test_admin_is_closed_to_non_staff(catalog, user_kwargs):
    client = Client()
    if user_kwargs is not None:
        client.force_login(UserFactory(**user_kwargs))
    course, _ = catalog

    for url in ("/admin/course/course/", f"/admin/course/course/{course.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
