"""Scope checks for API keys; staff sessions act with every scope.

A view says what it needs:

- ``public = True``: anyone (throttled);
- ``required_scopes = {"list": "tickets:read", "create": "tickets:write"}``:
  keyed by viewset action, or by HTTP method for plain APIViews
  (``{"GET": ..., "POST": ...}``); a ``"*"`` key applies to everything else.

A view that declares neither is closed to API keys and open to staff sessions
only: forgetting to declare a scope fails safe.
"""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from .keys import ApiCredential

ALL_SCOPES = (
    "centers:read",
    "tickets:read",
    "tickets:write",
    "loans:write",
    "devices:write",
    "plans:write",
    "shipments:write",
    "webhooks:manage",
    "payments:write",
    "parts:read",
    "parts:write",
    "visits:read",
    "visits:write",
)


def required_scope(request, view) -> str | None:
    scopes = getattr(view, "required_scopes", None) or {}
    action = getattr(view, "action", None)
    if action and action in scopes:
        return scopes[action]
    if request.method in scopes:
        return scopes[request.method]
    return scopes.get("*")


class HasScope(BasePermission):
    def has_permission(self, request, view) -> bool:
        if getattr(view, "public", False):
            return True
        scope = required_scope(request, view)
        if isinstance(request.auth, ApiCredential):
            if scope is None or not request.auth.has_scope(scope):
                raise exceptions.PermissionDenied(
                    f"This API key does not have the '{scope}' scope."
                    if scope
                    else "This endpoint is not available to API keys."
                )
            return True
        user = request.user
        if user and user.is_authenticated:
            if user.is_staff:
                return True
            raise exceptions.PermissionDenied("Staff access only.")
        return False  # DRF turns this into 401 not_authenticated
