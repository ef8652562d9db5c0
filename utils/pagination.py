"""Page-number pagination shared by every list endpoint."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 10
    # The Vue app sends `size`; `page_size` is accepted too. Both are capped.
    page_size_query_param = "page_size"
    page_size_alias = "size"
    max_page_size = 50

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
