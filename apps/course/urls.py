from django.urls import path, register_converter

from utils.converters import IdConverter

from . import progress_views, views

register_converter(IdConverter, "id")

urlpatterns = [
    path("category/", views.CategoryView.as_view(), name="course-category"),
    path("list/", views.CourseListView.as_view(), name="course-list"),
    path("list/<id:pk>/", views.CourseDetailView.as_view(), name="course-detail"),
    path("chapter/", views.ChapterListView.as_view(), name="course-chapter"),
    path("search/", views.CourseSearchView.as_view(), name="course-search"),
    path("progress/", progress_views.CourseProgressView.as_view(), name="course-progress"),
    path(
        "progress/<id:section_id>/",
        progress_views.ProgressReportView.as_view(),
        name="lesson-progress",
    ),
    path("teacher/<id:pk>/", views.TeacherDetailView.as_view(), name="teacher-detail"),
]
