"""The OpenAPI schema is complete: every operation documents its answers, errors and security, and has
every path of docs/api-contract.md."""

import re
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

# Every method + path docs/api-contract.md (the contract outside clients are written against) lists.
API_MD_OPERATIONS = [
    ("get", "/api/v1/centers/"),
    ("get", "/api/v1/centers/{code}/"),
    ("get", "/api/v1/centers/verify/"),
    ("get", "/api/v1/centers/{code}/slots/"),
    ("get", "/api/v1/service-days/"),
    ("post", "/api/v1/appointments/"),
    ("post", "/api/v1/mail-in-requests/"),
    ("get", "/api/v1/track/{service_no}/"),
    ("get", "/api/v1/devices/{imei}/coverage/"),
    ("get", "/api/v1/catalog/models/"),
    ("get", "/api/v1/catalog/repairs/"),
    ("get", "/api/v1/plans/"),
    ("post", "/api/v1/tickets/"),
    ("get", "/api/v1/tickets/"),
    ("get", "/api/v1/tickets/{service_no}/"),
    ("post", "/api/v1/tickets/{service_no}/transition/"),
    ("post", "/api/v1/tickets/{service_no}/quote/"),
    ("post", "/api/v1/tickets/{service_no}/quote/approve/"),
    ("post", "/api/v1/loans/"),
    ("post", "/api/v1/loans/{id}/return/"),
    ("post", "/api/v1/devices/"),
    ("post", "/api/v1/plan-purchases/"),
    ("post", "/api/v1/shipments/{id}/events/"),
    ("post", "/api/v1/webhooks/"),
]
# The "Additions being built" section of docs/api-contract.md: operations promised for later issues. The list
# must match the file (so a new promise is noticed here); those already built are checked against
# the schema like the core ones, the rest are not there yet.
API_MD_ADDITIONS = {
    ("post", "/api/v1/verification-codes/"): True,
    ("get", "/api/v1/track/{service_no}/"): True,
    ("get", "/api/v1/tickets/{service_no}/"): True,
    ("post", "/api/v1/tickets/{service_no}/transition/"): True,
    ("post", "/api/v1/tickets/{service_no}/payments/"): True,
    ("post", "/api/v1/payments/{id}/refund/"): True,
    ("post", "/api/v1/tickets/{service_no}/fapiao/"): True,
    ("get", "/api/v1/tickets/{service_no}/fapiao/"): True,
    ("post", "/api/v1/tickets/{service_no}/inspection/"): True,
    ("post", "/api/v1/tickets/{service_no}/return-decision/"): True,
    ("get", "/api/v1/tickets/{service_no}/return-decision/"): True,
    ("post", "/api/v1/couriers/{provider}/push/"): True,
    ("get", "/api/v1/centers/{code}/stock/"): True,
    ("post", "/api/v1/store-reports/"): True,
    ("get", "/api/v1/official-stores/feed/"): True,
    ("get", "/api/v1/events/"): True,
    ("post", "/api/v1/events/{id}/registrations/"): True,
    ("post", "/api/v1/visits/"): True,
    ("get", "/api/v1/visits/summary/"): True,
    ("get", "/api/v1/appointments/{service_no}/"): True,
    ("post", "/api/v1/callbacks/{id}/outcome/"): True,
    ("post", "/api/v1/amenity-loans/"): True,
    ("post", "/api/v1/amenity-loans/{id}/return/"): True,
    ("post", "/api/v1/amenity-loans/{id}/lost/"): True,
    ("get", "/api/v1/amenity-loans/"): True,
    ("get", "/api/v1/sign-sessions/"): True,
    ("post", "/api/v1/sign-sessions/{id}/prepared/"): True,
    ("post", "/api/v1/sign-sessions/{id}/outcome/"): True,
}
ADDITIONS_HEADING = "## Additions being built"
API_MD = Path(__file__).resolve().parents[2] / "docs" / "api-contract.md"
METHODS = {"get", "post", "put", "patch", "delete"}


def _shape(path: str) -> str:
    """Path with parameter names erased: /api/v1/loans/{pk}/return/ == /api/v1/loans/{id}/return/."""
    return re.sub(r"\{[^}]+\}", "{}", path)


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op


def test_schema_is_valid_openapi(schema):
    validate_schema(schema)


# Where the contract is maintained when this checkout sits in the team's workspace. The repository carries a
# copy (docs/api-contract.md) so it stands alone. The maintained original may lag behind what this repository
# adds ("add to it freely; never rename or drop what it lists"), so the copy must hold every line of the
# original, in its order, and may only add lines of its own.
SHARED_API_MD = Path(__file__).resolve().parents[3] / "shared" / "API.md"


def _dropped_lines(original: str, copy: str) -> list[str]:
    """The original's lines that the copy lacks, read in order (the copy may add lines anywhere)."""
    copy_lines = iter(copy.splitlines())
    dropped = []
    for line in original.splitlines():
        for candidate in copy_lines:
            if candidate == line:
                break
        else:
            dropped.append(line)
            copy_lines = iter(copy.splitlines())  # keep reporting the rest, not just the first miss
    return dropped


def test_dropped_lines_sees_a_renamed_or_dropped_row_and_allows_additions():
    original = "a\nb\nc\n"
    assert _dropped_lines(original, "a\nx\nb\nc\ny\n") == []
    assert _dropped_lines(original, "a\nc\n") == ["b"]
    assert _dropped_lines(original, "a\nB\nc\n") == ["b"]
    assert _dropped_lines(original, "c\nb\na\n") != []  # reordered


def test_the_repository_copy_of_the_contract_keeps_the_maintained_one():
    if not SHARED_API_MD.exists():  # a checkout on its own: the copy is all there is
        assert API_MD.exists()
        return
    assert _dropped_lines(SHARED_API_MD.read_text(), API_MD.read_text()) == [], (
        "docs/api-contract.md dropped or changed lines of shared/API.md"
    )


def test_the_api_md_list_matches_the_shared_file():
    core, _sep, additions = API_MD.read_text().partition(ADDITIONS_HEADING)

    def operations(text):
        return {(m.lower(), p) for m, p in re.findall(r"\b(GET|POST|PUT|PATCH|DELETE) `(/api/v1/[^`\s]*)`", text)}

    assert operations(core) == set(API_MD_OPERATIONS)
    assert operations(additions) == set(API_MD_ADDITIONS)


@pytest.mark.parametrize("method, path", [op for op, built in API_MD_ADDITIONS.items() if built])
def test_every_built_addition_is_in_the_schema(schema, method, path):
    shapes = {(m, _shape(p)) for m, p, _op in _operations(schema)}
    assert (method, _shape(path)) in shapes


@pytest.mark.parametrize("method, path", API_MD_OPERATIONS)
def test_every_api_md_operation_is_in_the_schema(schema, method, path):
    shapes = {(m, _shape(p)) for m, p, _op in _operations(schema)}
    assert (method, _shape(path)) in shapes


def test_no_global_security_so_public_operations_are_anonymous(schema):
    assert "security" not in schema or schema["security"] in ([], [{}])


def test_security_scheme_is_declared(schema):
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": pytest.approx(schema["components"]["securitySchemes"]["ApiKeyAuth"]["description"]),
    }


def test_every_operation_documents_success_and_problem_errors(schema):
    problems = []
    for method, path, op in _operations(schema):
        responses = op.get("responses", {})
        label = f"{method.upper()} {path}"
        if not any(code.startswith("2") for code in responses):
            problems.append(f"{label}: no 2xx response")
        errors = {code: r for code, r in responses.items() if code.startswith(("4", "5"))}
        for needed in ("400", "404", "429"):
            if needed not in errors:
                problems.append(f"{label}: no {needed}")
        for code, r in errors.items():
            content = r.get("content", {})
            ref = content.get("application/problem+json", {}).get("schema", {}).get("$ref", "")
            component = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}) if ref else {}
            # Problem itself, or an extension of it (e.g. SlotFullProblem with `alternatives`).
            if not {"type", "title", "status", "code", "detail"} <= set(component.get("properties", {})):
                problems.append(f"{label}: {code} is not a problem+json Problem")
        if not op.get("summary") and not op.get("description"):
            problems.append(f"{label}: undocumented (no summary/description)")
    assert problems == []


def test_keyed_operations_require_the_api_key_and_public_ones_do_not(schema):
    problems = []
    for method, path, op in _operations(schema):
        # No top-level security: an operation without its own is public.
        security = op.get("security") or []
        keyed = {"ApiKeyAuth": []} in security
        public = security == [] or {} in security
        if public and ("401" in op["responses"] or "403" in op["responses"]):
            problems.append(f"{method.upper()} {path}: public but documents 401/403")
        if keyed and ("401" not in op["responses"] or "403" not in op["responses"]):
            problems.append(f"{method.upper()} {path}: keyed without 401/403")
        if not keyed and not public:
            problems.append(f"{method.upper()} {path}: neither public nor API key: {security}")
    assert problems == []


def test_every_post_documents_idempotency(schema):
    problems = []
    for method, path, op in _operations(schema):
        if method != "post":
            continue
        names = [p["name"] for p in op.get("parameters", []) if p.get("in") == "header"]
        if "Idempotency-Key" not in names:
            problems.append(f"POST {path}: no Idempotency-Key")
        if "idempotency_key_reused" not in op["responses"].get("422", {}).get("description", ""):
            problems.append(f"POST {path}: no 422 idempotency_key_reused")
    assert problems == []


def test_problem_component_has_the_rfc9457_shape(schema):
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code", "detail"} <= set(problem["properties"])
    assert set(problem["required"]) >= {"type", "title", "status", "code", "detail"}
