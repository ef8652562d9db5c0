"""Catalog endpoints: categories, course list and detail, chapter tree, search, teachers."""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from utils.media_serve import serve_file
from utils.response import APIResponse
from utils.schema import documented_get, error_response
from utils.serializers import EnvelopeCodeField, validated

from . import media, messages, openapi, selectors
from .cache import CachedAnonymousReads
from .document_views import ChaptersFromDocuments, DetailFromDocuments, SearchFromCards
from .filters import CourseFilter
from .models import Course
from .ownership import owned_course_ids
from .serializers import (
    CategorySerializer,
    ChapterQuerySerializer,
    ChapterSerializer,
    CourseDetailSerializer,
    CourseSerializer,
    TeacherCoursesSerializer,
)


class CategoryView(CachedAnonymousReads, APIView):
    @extend_schema(
        summary="List course categories",
        description="The categories shown in the shop, in the staff's order. Use an `id` as "
        "`course_category` to filter the course list.",
        examples=[openapi.CATEGORIES],
        responses=inline_serializer(
            "CategoryList",
            {
                "code": EnvelopeCodeField(),
                "msg": serializers.CharField(),
                "result": CategorySerializer(many=True),
            },
        ),
    )
    def get(self, request: Request) -> APIResponse:
        data = CategorySerializer(selectors.visible_categories(), many=True).data
        return APIResponse(result=data)


class CourseListMixin:
    """Paginated course lists: previews of each course's first sections in one extra query."""

    serializer_class = CourseSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CourseFilter

    def get_queryset(self):
        return selectors.visible_courses()

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset) or []
        selectors.attach_section_previews(page)
        self.owned_course_ids = owned_course_ids(self.request.user, [c.pk for c in page])
        return page

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["owned_course_ids"] = getattr(self, "owned_course_ids", set())
        return context


@documented_get(
    "List courses",
    "Courses on sale, of every type, 10 a page by default. Filter by category, "
    "type and the price paid now; order by `ordering`. `section_list` previews the first "
    "sections of each course. " + openapi.SECTION_LINK_RULE,
    openapi.COURSE_PAGE,
)
class CourseListView(CachedAnonymousReads, CourseListMixin, ListAPIView):
    """Shown, online courses of every type; filter, order and page through them."""


SEARCH_PARAM = OpenApiParameter(
    "search", str, required=True, description="Words that must all match (name, brief or price)"
)


# `ordering` values the search index can answer (descending?): CourseFilter orders by them then id.
INDEX_ORDERINGS = {"orders": False, "-orders": True}


def search_words(params: QueryDict) -> list[str]:
    """The words of `?search=`, checked (a 400 for empty, too long or too many words)."""
    text = params.get("search", "")
    if len(text) > selectors.MAX_SEARCH_LENGTH:
        raise exceptions.ValidationError(
            {"search": [messages.search_too_long(selectors.MAX_SEARCH_LENGTH)]}
        )
    words = selectors.search_words(text)
    if not words:
        raise exceptions.ValidationError({"search": [_("请输入搜索内容")]})
    if len(words) > selectors.MAX_SEARCH_WORDS:
        # Every word must match, so dropping the extra ones would return wrong results.
        raise exceptions.ValidationError(
            {"search": [messages.too_many_search_words(selectors.MAX_SEARCH_WORDS)]}
        )
    return words


def indexed_search(
    params: QueryDict, words: list[str], decided: frozenset[str]
) -> selectors.IndexedSearch | None:
    """The search the index answers alone, when it can: no filter, ordered as the index is,
    every word decided by it (`decided`: selectors.decided_words(words)); else None."""
    ordering = params.get("ordering") or "orders"
    if ordering not in INDEX_ORDERINGS or decided != frozenset(words):
        return None
    if any(name in params for name in CourseFilter.base_filters if name != "ordering"):
        return None
    return selectors.IndexedSearch(words, descending=INDEX_ORDERINGS[ordering])


def _decided(request: HttpRequest, words: list[str]) -> frozenset[str]:
    """selectors.decided_words(words), asked once per request (a query on Mroonga): the view
    asks again when SearchFromCards passes the request on to it."""
    known = getattr(request, "_search_decided", None)
    if known is None or known[0] != words:
        known = (words, selectors.decided_words(words))
        request._search_decided = known
    return known[1]


class CourseSearchView(SearchFromCards, CachedAnonymousReads, CourseListMixin, ListAPIView):
    """Search across every course type; combines with the list's filters and ordering.

    Anonymous JSON pages the index answers alone are served from cards before DRF runs
    (apps/course/document_views.py `SearchFromCards`); everything else comes through here.
    """

    @staticmethod
    def indexed_search_for(request: HttpRequest) -> selectors.IndexedSearch | None:
        """What SearchFromCards serves: the index's search for the request, if it answers
        alone (raises the view's ValidationError for bad words)."""
        words = search_words(request.GET)
        return indexed_search(request.GET, words, _decided(request, words))

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Course.objects.none()
        params = self.request.query_params
        words = search_words(params)
        decided = _decided(self.request._request, words)
        indexed = indexed_search(params, words, decided)
        if indexed is not None:
            return indexed
        return selectors.search_courses(selectors.visible_courses(), words, decided=decided)

    def filter_queryset(self, queryset):
        if isinstance(queryset, selectors.IndexedSearch):
            return queryset  # no filter was given; its order is the requested one
        return super().filter_queryset(queryset)

    @extend_schema(
        summary="Search courses",
        description="Courses whose name, brief or price match every word of `search` (at most "
        f"{selectors.MAX_SEARCH_WORDS} words, {selectors.MAX_SEARCH_LENGTH} characters; an empty "
        "search is a 400). Takes the list's filters, ordering and paging. "
        + openapi.SECTION_LINK_RULE,
        parameters=[SEARCH_PARAM],
        examples=[openapi.COURSE_PAGE],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


@documented_get(
    "Get one course",
    "A course on sale with its category and section previews; `owned` is true "
    "when the logged-in user has bought it. A hidden, deleted or offline course is a 404. "
    + openapi.SECTION_LINK_RULE,
    openapi.COURSE_DETAIL,
)
class CourseDetailView(DetailFromDocuments, CachedAnonymousReads, RetrieveAPIView):
    serializer_class = CourseDetailSerializer

    def get_queryset(self):
        return selectors.visible_courses().select_related("course_category")

    def get_object(self):
        course = super().get_object()
        selectors.attach_section_previews([course])
        self.owned_course_ids = owned_course_ids(self.request.user, [course.pk])
        return course

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["owned_course_ids"] = getattr(self, "owned_course_ids", set())
        return context


COURSE_PARAM = OpenApiParameter("course", int, required=True, description="Course id")


class ChapterListView(ChaptersFromDocuments, CachedAnonymousReads, APIView):
    """The chapter tree of one visible course, in order (not paginated)."""

    @extend_schema(
        summary="List the chapters and sections of a course",
        description="Every chapter of a course on sale with its sections, in order, not "
        "paged, and not in the envelope (a bare array). A `course` that is not a number is a "
        "400, an unknown or hidden course a 404. " + openapi.SECTION_LINK_RULE,
        examples=[openapi.CHAPTERS],
        parameters=[COURSE_PARAM],
        responses={200: ChapterSerializer(many=True), 404: error_response("No such course")},
    )
    def get(self, request: Request) -> Response:
        course_id = validated(ChapterQuerySerializer, request.query_params)["course"]
        if not Course.objects.visible().filter(pk=course_id).exists():
            raise exceptions.NotFound(_("课程不存在"))
        context = {
            "request": request,
            "owned_course_ids": owned_course_ids(request.user, [course_id]),
        }
        chapters = selectors.chapter_tree(course_id)
        return Response(ChapterSerializer(chapters, many=True, context=context).data)


@require_safe
def signed_media(request: HttpRequest, token: str) -> HttpResponse:
    """A local section file behind a signed link (apps/course/media.py), checked every request:
    a `<video>` fetches it in many range requests, and a refund stops the next one."""
    try:
        _section, key = media.section_for_link(token)
    except media.LinkRefused:
        refused = HttpResponse(
            _("视频链接已失效,请刷新页面后重试"), status=403, content_type="text/plain"
        )
        refused["Cache-Control"] = "no-store"
        return refused
    if settings.MEDIA_ACCEL_REDIRECT:  # nginx sends the file (and its ranges) itself
        response = HttpResponse(
            content_type=mimetypes.guess_type(key)[0] or "application/octet-stream"
        )
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT + quote(key)
    else:
        response = serve_file(request, key, document_root=settings.MEDIA_ROOT)
    # The browser may keep what it fetched for the page it plays on, nobody else may.
    response["Cache-Control"] = "private, max-age=60"
    return response


@documented_get(
    "Get a teacher and their courses",
    "A shown teacher with the visible courses they teach, each as the course list shows it "
    "(price, section previews). A hidden or deleted teacher is a 404.",
    openapi.TEACHER_COURSES,
)
class TeacherDetailView(RetrieveAPIView):
    serializer_class = TeacherCoursesSerializer

    def get_object(self):
        teacher = selectors.visible_teacher(self.kwargs["pk"])
        if teacher is None:
            raise exceptions.NotFound(_("导师不存在"))
        ids = [course.pk for course in teacher.course_list]
        self.owned_course_ids = owned_course_ids(self.request.user, ids)
        return teacher

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["owned_course_ids"] = getattr(self, "owned_course_ids", set())
        return context
