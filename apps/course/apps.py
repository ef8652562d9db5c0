from django.apps import AppConfig


class CourseConfig(AppConfig):
    name = "apps.course"
    label = "course"
    verbose_name = "课程"

    def ready(self) -> None:
        from . import signals
        from .search import checks, sync

        signals.connect()
        sync.connect()
        checks.register()
