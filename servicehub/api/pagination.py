from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``{"count", "next", "previous", "results"}`` with ``page`` and ``page_size`` (max 100).

    Querysets handed to it must be ordered on a unique key (or end with ``pk``)
    so pages never overlap or skip rows.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        # Strict: a page_size that is not a positive whole number is a client error (400), not silently the default.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                value = int(raw)
            except (TypeError, ValueError):
                value = 0
            if value < 1:
                from django.utils.translation import gettext as _
                from rest_framework.exceptions import ValidationError

                raise ValidationError({self.page_size_query_param: [_("A whole number from 1 is required.")]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for p in params:
            if p["name"] in (self.page_query_param, self.page_size_query_param):
                p["schema"]["minimum"] = 1
        return params
