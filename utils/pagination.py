"""Page-number pagination shared by every list endpoint."""

from rest_framework import pagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .public_urls import absolute_url


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 10
    # The Vue app sends `size`; `page_size` is accepted too. Both are capped.
    page_size_query_param = "page_size"
    page_size_alias = "size"
    max_page_size = 50
    page_query_description = "Page number, from 1; a page past the end is a 404"
    page_size_query_description = f"Items per page (default {page_size}, at most {max_page_size})"

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        alias = {
            "name": self.page_size_alias,
            "required": False,
            "in": "query",
            "description": f"Same as `{self.page_size_query_param}` (the Vue app sends this one); "
            f"`{self.page_size_query_param}` wins when both are given",
            "schema": {"type": "integer"},
        }
        return [*parameters, alias]

    def get_page_size(self, request):
        if self.page_size_query_param not in request.query_params and (
            self.page_size_alias in request.query_params
        ):
            raw = request.query_params[self.page_size_alias]
            try:
                return pagination._positive_int(raw, strict=True, cutoff=self.max_page_size)
            except (KeyError, ValueError):
                return self.page_size
        return super().get_page_size(request)

    # `next`/`previous` as DRF builds them, but on SITE_URL: DRF takes the request's Host, and
    # anonymous list pages are cached for everyone (utils/public_urls.py).
    def get_next_link(self):
        if not self.page.has_next():
            return None
        url = absolute_url(self.request.get_full_path())
        return replace_query_param(url, self.page_query_param, self.page.next_page_number())

    def get_previous_link(self):
        if not self.page.has_previous():
            return None
        url = absolute_url(self.request.get_full_path())
        page_number = self.page.previous_page_number()
        if page_number == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, page_number)
