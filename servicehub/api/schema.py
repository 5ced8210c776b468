"""OpenAPI: every operation documents its problem-details errors and security."""

import re

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import serializers

from servicehub.api.permissions import HasScope

# A center's wall-clock time ("09:00"). Not `format: time`: that is RFC 3339 `full-time`, which needs
# seconds AND an offset ("09:00:00+08:00"), and opening hours are local times with no offset. Generated
# clients get a plain string they can compare and show as is; the pattern tells them its shape.
WALL_CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


@extend_schema_field({"type": "string", "pattern": WALL_CLOCK_PATTERN, "example": "09:00"})
class WallClockTimeField(serializers.TimeField):
    """A local time of day as ``HH:MM`` (24 h), declared with a pattern instead of ``format: time``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%H:%M")
        kwargs.setdefault("input_formats", ["%H:%M"])
        super().__init__(**kwargs)


class BlankAsNullChoiceField(serializers.ChoiceField):
    """An optional choice stored as ``""`` in the database, answered as ``null``.

    ``""`` is not one of the declared enum values, and a generated client raises on an
    unknown enum value; ``null`` on a nullable enum is what such a client expects.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs["allow_null"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value in ("", None):
            return None
        return super().to_representation(value)


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
                responses[key] = self._get_response_for_code(problem(description), key, direction=direction)
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


# --- postprocessing: query parameters as strict as the server -----------------------------


def strict_parameters_hook(result, generator, request, public):
    """drf-spectacular hook: a string query parameter that is given must not be blank.

    The filter backend (``servicehub.api.filters``) and the query serializers answer 400 to
    ``?model=`` or ``?near=`` (a client with a typo must not get an unfiltered list), so the
    schema says so: ``minLength: 1``, at least one non-space character and no NUL. Parameters with an
    enum, a format or their own pattern already exclude the empty string.
    """
    for ops in result.get("paths", {}).values():
        for op in ops.values():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                if param.get("in") != "query":
                    continue
                if param.pop("x-allow-blank", False):  # blank allowed, NUL still refused
                    param.get("schema", {}).setdefault("pattern", NO_NUL)
                    continue
                schema = param.get("schema", {})
                targets = [schema.get("items", {})] if schema.get("type") == "array" else [schema]
                for target in targets:
                    # A filter's `title` is its translated label: generated clients name the enum class after
                    # it (`loans_list_状态`), so the class name would depend on the schema's language.
                    target.pop("title", None)
                    if target.get("type") != "string" or {"enum", "format"} & set(target):
                        continue
                    target.setdefault("minLength", 1)
                    target.setdefault("pattern", NO_NUL_NOT_BLANK)
    for name, component in result.get("components", {}).get("schemas", {}).items():
        for prop_name, prop in component.get("properties", {}).items():
            _tighten_property(name, prop_name, prop)
            if name.endswith("Request"):
                for target in (prop, prop.get("items", {})):
                    _not_only_spaces(target)
            if (name, prop_name) in NON_EMPTY_LISTS:
                prop["minItems"] = 1
    return result


# Nested list serializers with allow_empty=False (drf-spectacular writes no minItems for them).
NON_EMPTY_LISTS = {("QuoteCreateRequest", "lines")}


# DRF's DecimalField pattern as drf-spectacular writes it (`^-?\d{0,8}(?:\.\d{0,2})?$`) matches "" and "-",
# which the field refuses; the same shape with at least one digit.
_DECIMAL = re.compile(r"^\^-\?\\d\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}\)\?\$$")


# What Python's str.strip() removes (DRF strips CharField input, the filter backend strips query
# values): ECMA's \s differs (it lacks U+001C-U+001F and U+0085), so the class is spelled out.
_SPACE = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# DRF CharField input and django-filter values: no NUL anywhere (ProhibitNullCharactersValidator), and
# when blank is not allowed (every given query value) at least one character that is neither NUL nor
# whitespace.
NO_NUL = "^[^\x00]*$"
NO_NUL_NOT_BLANK = f"^[^\x00]*[^\x00{_SPACE}][^\x00]*$"


def _not_only_spaces(prop: dict) -> None:
    """A request string with no format of its own is a DRF CharField: say what it refuses."""
    if prop.get("type") != "string" or {"pattern", "format", "enum"} & set(prop) or prop.get("readOnly"):
        return
    prop["pattern"] = NO_NUL_NOT_BLANK if prop.get("minLength", 0) >= 1 else NO_NUL


def _tighten_property(component: str, name: str, prop: dict) -> None:
    if prop.get("format") == "decimal" and isinstance(prop.get("pattern"), str):
        match = _DECIMAL.match(prop["pattern"])
        if match:
            whole, places = match.groups()
            prop["pattern"] = rf"^-?(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"
    # Request IMEIs: 15 digits (the Luhn check digit is checked by the server), or blank where a
    # serial number may stand in for it.
    if name == "imei" and component.endswith("Request") and prop.get("type") == "string" and "pattern" not in prop:
        prop["pattern"] = r"^[0-9]{15}$" if prop.get("minLength") else r"^([0-9]{15})?$"


__all__ = [
    "AutoSchema",
    "ProblemSerializer",
    "BlankAsNullChoiceField",
    "WallClockTimeField",
    "problem",
    "strict_parameters_hook",
    "inline_serializer",
]
