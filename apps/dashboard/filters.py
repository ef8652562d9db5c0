"""A date-range filter for admin change lists: two date boxes (from, to inclusive) in local time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _


class DateRangeFilter(admin.FieldListFilter):
    template = "admin/dashboard/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path) -> None:
        self.param_from = f"{field_path}__range_from"
        self.param_to = f"{field_path}__range_to"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = _("%(field)s(日期范围)") % {"field": field.verbose_name}
        # The base class moved our two parameters from `params` to `used_parameters`.
        self.value_from = self._date(self.used_parameters.get(self.param_from, [""]))
        self.value_to = self._date(self.used_parameters.get(self.param_to, [""]))

    @staticmethod
    def _date(values) -> date | None:
        raw = (values[-1] if isinstance(values, list) else values or "").strip()
        if not raw:
            return None
        try:
            parsed = parse_date(raw)
        except ValueError:
            parsed = None
        if parsed is None:
            raise IncorrectLookupParameters(_("日期格式应为 YYYY-MM-DD"))
        return parsed

    def expected_parameters(self) -> list[str]:
        return [self.param_from, self.param_to]

    def has_output(self) -> bool:
        return True

    def queryset(self, request, queryset):
        def midnight(day: date) -> datetime:
            return timezone.make_aware(datetime.combine(day, datetime.min.time()))

        if self.value_from:
            queryset = queryset.filter(**{f"{self.field_path}__gte": midnight(self.value_from)})
        if self.value_to:
            end = midnight(self.value_to + timedelta(days=1))
            queryset = queryset.filter(**{f"{self.field_path}__lt": end})
        return queryset

    def choices(self, changelist):
        # One "choice": the form. Other filters' and the search's parameters ride along hidden.
        kept = {
            k: v
            for k, v in changelist.get_filters_params().items()
            if k not in (self.param_from, self.param_to)
        }
        if changelist.query:
            kept["q"] = changelist.query
        hidden = [
            (k, item) for k, v in kept.items() for item in (v if isinstance(v, list) else [v])
        ]
        yield {
            "param_from": self.param_from,
            "param_to": self.param_to,
            "value_from": self.value_from.isoformat() if self.value_from else "",
            "value_to": self.value_to.isoformat() if self.value_to else "",
            "hidden": hidden,
            "clear_url": changelist.get_query_string(remove=[self.param_from, self.param_to]),
        }
