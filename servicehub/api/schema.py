"""OpenAPI: every operation documents its problem-details errors and security."""

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from servicehub.api.permissions import HasScope


class ProblemSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="Stable machine-readable error code.")
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors by field (validation_error only).",
    )
    allowed_actions = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="For invalid_transition."
    )

    class Meta:
        ref_name = "Problem"


def problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ProblemSerializer, description=description)


GENERIC_ERRORS = {
    400: "validation_error: invalid parameters or body (with `errors`).",
    401: "not_authenticated: missing or wrong API key.",
    403: "permission_denied: the key lacks the scope.",
    404: "not_found",
    405: "method_not_allowed",
    429: "throttled",
}


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        public = getattr(self.view, "public", False)
        for status_code, description in GENERIC_ERRORS.items():
            if public and status_code in (401, 403):
                continue
            key = str(status_code)
            if key not in responses:
                responses[key] = self._get_response_for_code(
                    problem(description), key, direction=direction
                )
        for key, body in responses.items():
            if key.startswith(("4", "5")) and "content" in body:
                # Errors are problem+json, not plain JSON.
                content = body["content"]
                if "application/json" in content and "application/problem+json" not in content:
                    content["application/problem+json"] = content.pop("application/json")
        return responses

    def get_auth(self):
        if getattr(self.view, "public", False):
            return []
        if not any(isinstance(p, HasScope) for p in self.view.get_permissions()):
            return super().get_auth()
        return [{"ApiKeyAuth": []}, {"cookieAuth": []}]


__all__ = ["AutoSchema", "ProblemSerializer", "problem", "inline_serializer"]
