"""The staff site: Django's admin under ServiceHub's own name, with a readable "not for your role" page.

``StaffAdminSite`` replaces ``django.contrib.admin.site`` through ``servicehub.admin_apps.StaffAdminConfig``,
so every ``@admin.register`` in the apps lands on it unchanged.
"""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _


class StaffAdminSite(admin.AdminSite):
    site_header = _("ServiceHub staff")
    site_title = _("ServiceHub staff")
    index_title = _("Staff desk")


def staff_permission_denied(request, exception=None, *, csrf: bool = False):
    """403 inside the staff site: the admin's look, words instead of "403 Forbidden", a way back.

    Says which page it was and offers the previous page (when it is on this site) and the staff
    home. Never shows the exception text or a stack: the reason may name internals.
    """
    referer = request.META.get("HTTP_REFERER", "")
    back = (
        referer
        if referer
        and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and referer != request.build_absolute_uri()
        else None
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Not for your role"),
        "back_url": back,
        "path": request.path,
        "csrf": csrf,
    }
    return TemplateResponse(request, "admin/403.html", context, status=403)


def permission_denied(request, exception=None):
    """``handler403``: the staff page under ``/admin/``, Django's default elsewhere."""
    if request.path.startswith("/admin/"):
        return staff_permission_denied(request, exception)
    from django.views.defaults import permission_denied as default

    return default(request, exception)


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: under ``/admin/`` a readable "the form expired" page, Django's elsewhere."""
    if request.path.startswith("/admin/"):
        return staff_permission_denied(request, csrf=True)
    from django.views.csrf import csrf_failure as default

    return default(request, reason=reason)
