"""Refuse NUL characters in query strings before anything reads them.

PostgreSQL cannot store or compare a string with a NUL (0x00) character: a query parameter
carrying one reached a filter and became a 500 ("A string literal cannot contain NUL"). DRF's
own fields already refuse NUL in bodies; this covers every query parameter, API and pages alike,
in one place: the API answers 400 ``validation_error`` (problem details), a page answers 400.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _

from servicehub.api.errors import PROBLEM_CONTENT_TYPE, api_or_page_400, problem


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = sorted({key for key, values in request.GET.lists() if "\x00" in key or any("\x00" in v for v in values)})
        if not bad:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            message = _("Null characters are not allowed.")
            body = problem(
                status_code=400,
                code="validation_error",
                detail=message,
                errors={key.replace("\x00", ""): [message] for key in bad},
            )
            return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)
        return api_or_page_400(request)
