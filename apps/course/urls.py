from django.urls import path, register_converter

from utils.converters import IdConverter

from . import views

register_converter(IdConverter, "id")

urlpatterns = [
    path("category/", views.CategoryView.as_view(), name="course-category"),
    path("list/", views.CourseListView.as_view(), name="course-list"),
    path("list/<id:pk>/", views.CourseDetailView.as_view(), name="course-detail"),
    path("chapter/", views.ChapterListView.as_view(), name="course-chapter"),
    path("search/", views.CourseSearchView.as_view(), name="course-search"),
    path("teacher/<id:pk>/", views.TeacherDetailView.as_view(), name="teacher-detail"),
]
