from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CourseConfig(AppConfig):
    name = "apps.course"
    label = "course"
    verbose_name = _("课程")

    def ready(self) -> None:
        from . import checks as media_checks
        from . import documents, signals
        from .search import checks, counts, sync

        signals.connect()
        documents.connect()
        sync.connect()
        counts.connect()  # after sync: a delete's count moves on once its entry is gone
        checks.register()
        media_checks.register()
