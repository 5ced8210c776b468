from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``{"count", "next", "previous", "results"}`` with ``page`` and ``page_size`` (max 100).

    Querysets handed to it must be ordered on a unique key (or end with ``pk``)
    so pages never overlap or skip rows.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
