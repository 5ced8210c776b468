"""Public centers API (find, detail, verify, Service Days) and the staff coverage endpoint.

Views parse parameters and call selectors; they hold no rules.
"""

import hashlib
import json
import time

from django.db.models import Count, Window, prefetch_related_objects
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from centers import selectors, services
from centers.choices import SERVICE_VALUES, CenterKind
from centers.models import ServiceCenter
from partners.models import WebhookEndpoint
from partners.webhooks import sign
from servicehub.api.pagination import PageNumberPagination
from servicehub.api.schema import problem
from servicehub.api.throttling import BatchedThrottlesMixin, LookupThrottle, PublicAnonThrottle
from servicehub.errors import NotFound

from .serializers import (
    ADCODE_PATTERN,
    DEFAULT_RADIUS_KM,
    MAX_RADIUS_KM,
    MONTH_PATTERN,
    NEAR_PATTERN,
    CenterDetailSerializer,
    CenterListParams,
    CenterSerializer,
    FeedParams,
    FeedStoreSerializer,
    NetworkCoverageSerializer,
    OfficialStoreFeedSerializer,
    ServiceDayOutSerializer,
    ServiceDayParams,
    StoreReportCreatedSerializer,
    StoreReportCreateSerializer,
    VerifyParams,
    VerifyResultSerializer,
)


def _params(serializer_class, request):
    s = serializer_class(data=request.query_params)
    # DRF treats an empty query value ("kind=") as omitted; for a filter that silently widens
    # the result, so an empty value is refused like any other invalid one.
    blank = {
        name: [_("This parameter may not be empty.")]
        for name, field in s.fields.items()
        if request.query_params.get(name) == "" and not getattr(field, "allow_blank", False)
    }
    if blank:
        raise serializers.ValidationError(blank)
    s.is_valid(raise_exception=True)
    return s.validated_data


class WindowCountPagination(PageNumberPagination):
    """The standard page shape, but the total comes from ``COUNT(*) OVER ()`` on the page query
    itself: one query for rows and count instead of two (the nearest search stays at 2 queries
    with the hours prefetch)."""

    def paginate_queryset(self, queryset, request, view=None):
        return self.paginate_fetch(
            lambda offset, limit: list(queryset.annotate(_total=Window(Count("pk")))[offset : offset + limit]), request
        )

    def paginate_fetch(self, fetch, request):
        """The page from ``fetch(offset, limit)``: rows carrying ``_total`` (the count of all matches)."""
        self.request = request
        self.page_size = self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            self.number = int(raw)
            if not 1 <= self.number <= 10**9:  # an OFFSET past int64 is a database error, not a 500 to serve
                raise ValueError
        except ValueError:
            raise exceptions.NotFound(_("Invalid page.")) from None
        offset = (self.number - 1) * self.page_size
        rows = fetch(offset, self.page_size)
        if rows:
            self.count = rows[0]._total
        elif self.number == 1:
            self.count = 0
        else:
            raise exceptions.NotFound(_("Invalid page."))
        return rows

    def get_paginated_response(self, data):
        return Response(
            {"count": self.count, "next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_next_link(self):
        if self.number * self.page_size >= self.count:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.number + 1)

    def get_previous_link(self):
        if self.number <= 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)


NOT_FOUND = problem("not_found: no active center with this code.")


def _distance(center) -> float | None:
    d = getattr(center, "distance_km", None)
    return None if d is None else round(d, 3)


class CenterListView(GenericAPIView):
    public = True
    filter_backends: list = []
    pagination_class = WindowCountPagination
    serializer_class = CenterSerializer

    @extend_schema(
        operation_id="centers_list",
        summary="Find centers",
        description=(
            "Active sites of the network. With `near`, only those within `radius_km` (default "
            f"{DEFAULT_RADIUS_KM:g}, at most {MAX_RADIUS_KM:g}) are returned, nearest first, each with "
            "`distance_km`; otherwise ordered by code. One SQL query whatever the filters once the centers shown are "
            "cached (their rendering and business calendars, per center version), at most five before."
        ),
        parameters=[
            OpenApiParameter(
                "near",
                str,
                pattern=NEAR_PATTERN,
                description="LAT,LNG in decimal degrees (WGS-84), e.g. `31.2304,121.4737`.",
            ),
            OpenApiParameter(
                "radius_km",
                {"type": "number", "minimum": 0.001, "maximum": MAX_RADIUS_KM},
                description=f"Search radius with `near` (needed), > 0 and ≤ {MAX_RADIUS_KM:g} km.",
            ),
            OpenApiParameter("kind", str, enum=CenterKind.values),
            OpenApiParameter("service", str, enum=list(SERVICE_VALUES), description="A device category or channel."),
            OpenApiParameter("open_now", bool, description="Only centers open now (local time)."),
            OpenApiParameter(
                "region",
                str,
                pattern=ADCODE_PATTERN,
                description="Adcode (6 or 12 digits) of a province, city or county.",
            ),
            OpenApiParameter("page", {"type": "integer", "minimum": 1}),
            OpenApiParameter("page_size", {"type": "integer", "minimum": 1}, description="At most 100."),
        ],
        responses={
            200: CenterSerializer(many=True),
            400: problem("validation_error naming the parameter (near, radius_km, kind, service, open_now, region)."),
            404: problem("not_found: page out of range."),
        },
    )
    def get(self, request):
        params = _params(CenterListParams, request)
        region = None
        if params.get("region"):
            region = selectors.region_by_adcode(adcode=params["region"])
            if region is None:
                raise serializers.ValidationError({"region": [_("Unknown adcode.")]})
        plain_near = params.get("near") and not (
            region or params.get("kind") or params.get("service") or params["open_now"]
        )
        if plain_near:  # the common "centers near me": one query compiled once per process
            (lat, lng), radius = params["near"], params["radius_km"]
            page = self.paginator.paginate_fetch(
                lambda offset, limit: selectors.centers_nearest_page(
                    lat=lat, lng=lng, radius_km=radius, offset=offset, limit=limit
                ),
                request,
            )
        else:
            qs = selectors.centers_search(
                near=params.get("near"),
                radius_km=params.get("radius_km"),
                kind=params.get("kind"),
                service=params.get("service"),
                open_now=params["open_now"],
                region=region,
                annotate_open=False,  # from the cached calendars below (the open_now filter keeps it in the SQL)
            )
            page = self.paginate_queryset(qs)
        versions = selectors.center_cache_versions(centers=page) if page else {}  # one read: calendars and rows
        if not params["open_now"]:
            selectors.centers_set_open_now(page, versions=versions)

        def render(rows):  # only the rows not cached yet: their weekly hours in one query
            prefetch_related_objects(rows, selectors.hours_prefetch())
            return [dict(r) for r in CenterSerializer(rows, many=True).data]

        # Each center rendered once per version and language; distance and open now are this request's.
        rows = selectors.centers_rendered(centers=page, kind="api-list", render=render, versions=versions)
        data = [
            {**row, "is_open_now": bool(c.is_open_now), "distance_km": _distance(c)}
            for c, row in zip(page, rows, strict=True)
        ]
        return self.get_paginated_response(data)


class CenterDetailView(APIView):
    public = True

    @extend_schema(
        operation_id="centers_retrieve",
        summary="A center",
        responses={200: CenterDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request, code: str):
        center = selectors.center_public_detail(code=code, rendered=("api",))
        if center is None:
            raise NotFound(_("No active center with this code."))
        # Serialized once per center version and language; is_open_now is the clock's, every request.
        data = selectors.center_public_rendered(
            center=center, kind="api", render=lambda: dict(CenterDetailSerializer(center).data)
        )
        return Response({**data, "is_open_now": center.is_open_now})


class CenterVerifyView(APIView):
    public = True

    @extend_schema(
        operation_id="centers_verify",
        summary="Is this store / phone number official?",
        description=(
            "`official` is true only when an official, active center has exactly this phone number "
            "(spaces, dashes, +86 and the trunk 0 ignored) and/or exactly this name. Centers whose "
            "name merely contains the query come back as `suggestions`."
        ),
        parameters=[
            # Blank values are allowed here (a form's empty field); at least one of phone and name is needed.
            OpenApiParameter(
                "phone", str, description="Phone number as written on the store.", extensions={"x-allow-blank": True}
            ),
            OpenApiParameter("name", str, description="Store name.", extensions={"x-allow-blank": True}),
            OpenApiParameter(
                "city",
                str,
                description="Optional: a city/county/province name or adcode.",
                extensions={"x-allow-blank": True},
            ),
        ],
        responses={
            200: VerifyResultSerializer,
            400: problem("validation_error: neither phone nor name (field phone)."),
        },
    )
    def get(self, request):
        params = _params(VerifyParams, request)
        result = selectors.centers_verify(
            phone=params.get("phone", ""), name=params.get("name", ""), city=params.get("city", "")
        )
        return Response(VerifyResultSerializer(result).data)


class ServiceDayListView(APIView):
    public = True

    @extend_schema(
        operation_id="service_days_list",
        summary="Service Days of a month",
        description="First Friday of the month and the weekend after it, per participating center.",
        parameters=[
            OpenApiParameter(
                "month", str, pattern=MONTH_PATTERN, description="YYYY-MM; default: the current month (Asia/Shanghai)."
            ),
            OpenApiParameter("center", str, description="A center code."),
            OpenApiParameter(
                "region",
                str,
                pattern=ADCODE_PATTERN,
                description="Adcode (6 or 12 digits) of a province, city or county.",
            ),
        ],
        responses={
            200: ServiceDayOutSerializer(many=True),
            400: problem(
                "validation_error: bad month (YYYY-MM), unknown center or region (fields month, center, region)."
            ),
        },
    )
    def get(self, request):
        params = _params(ServiceDayParams, request)
        if params.get("month"):
            year, month = (int(x) for x in params["month"].split("-"))
        else:
            today = selectors.local_now().date()
            year, month = today.year, today.month
        center = None
        if params.get("center"):
            center = ServiceCenter.objects.filter(code=params["center"], active=True).first()
            if center is None:
                raise serializers.ValidationError({"center": [_("Unknown center code.")]})
        region = None
        if params.get("region"):
            region = selectors.region_by_adcode(adcode=params["region"])
            if region is None:
                raise serializers.ValidationError({"region": [_("Unknown adcode.")]})
        days = selectors.service_days_for(year=year, month=month, center=center, region=region)
        return Response(ServiceDayOutSerializer(days, many=True).data)


class CoverageView(APIView):
    required_scopes = {"GET": "centers:read"}

    @extend_schema(
        operation_id="coverage_retrieve",
        summary="Network coverage (staff / keys with centers:read)",
        description=(
            "Share of prefecture-level cities and of counties with at least one active site, overall "
            "and per province, with the uncovered ones. Statistical placeholder rows are not counted."
        ),
        parameters=[
            OpenApiParameter(
                "province",
                str,
                pattern=r"^(\d{2}|\d{6}|\d{12})$",
                description="Only this province (2, 6 or 12-digit adcode).",
            )
        ],
        responses={
            200: NetworkCoverageSerializer,
            400: problem("validation_error: unknown province (field province)."),
        },
    )
    def get(self, request):
        cov = selectors.coverage_summary()
        given = "province" in request.query_params
        prefix = (request.query_params.get("province") or "").strip()
        if given:
            if not prefix.isdigit() or len(prefix) not in (2, 6, 12):
                raise serializers.ValidationError({"province": [_("Expected a province adcode.")]})
            cov.provinces = [p for p in cov.provinces if p.adcode[:2] == prefix[:2]]
            if not cov.provinces:
                raise serializers.ValidationError({"province": [_("Unknown province.")]})
        return Response(NetworkCoverageSerializer(cov).data)


class StoreReportCreateView(BatchedThrottlesMixin, APIView):
    """Report a store that may pass itself off as official (issue #22). Photos: the public page only."""

    public = True
    throttle_classes = [PublicAnonThrottle, LookupThrottle]
    throttle_scope = "store_reports"

    @extend_schema(
        operation_id="store_reports_create",
        summary="Report a suspected unofficial store",
        description=(
            "HQ triages the reports and hands the confirmed ones to the authorities. Per client address at most "
            "the `store_reports` rate (default 10 an hour, shared with the public report page)."
        ),
        request=StoreReportCreateSerializer,
        responses={
            201: StoreReportCreatedSerializer,
            400: problem("validation_error: a missing or too long name, address or note (with `errors`)."),
            429: problem("throttled: too many reports from this address."),
        },
    )
    def post(self, request):
        body = StoreReportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.store_report_create(**body.validated_data, client_ip=PublicAnonThrottle().get_ident(request))
        return Response({"id": report.pk}, status=status.HTTP_201_CREATED)


SIGNATURE_HEADER = "X-ServiceHub-Signature"


def _etag_matches(header: str, etag: str) -> bool:
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


class OfficialStoreFeedView(APIView):
    """The official sites for map providers (issue #22): the full list, or the changes since a time."""

    required_scopes = {"GET": "centers:read"}

    @extend_schema(
        operation_id="official_stores_feed",
        summary="Feed of official stores for map providers",
        description=(
            "Without `since`: every active official site. With `since`: every site changed at or after it, the "
            "closed ones (deactivated or no longer official) with `closed: true`; keep the largest `updated_at` "
            "seen as the next `since`. The `ETag` changes with the stores only: send it back in `If-None-Match` "
            "to get 304. When the calling key's partner has an active webhook endpoint, the body is signed like "
            "its webhooks (Standard Webhooks, `partners.webhooks.sign` with that endpoint's secret): "
            f"`{SIGNATURE_HEADER}: v1,<base64>` over `<{SIGNATURE_HEADER}-Id>.<{SIGNATURE_HEADER}-Timestamp>.<body>`."
            " No endpoint, no signature headers. A fixed number of SQL queries whatever the number of stores."
        ),
        parameters=[
            OpenApiParameter(
                "since",
                {"type": "string", "format": "date-time"},
                description="Only changes at or after this time (ISO 8601 with offset).",
            ),
            OpenApiParameter("If-None-Match", str, location=OpenApiParameter.HEADER, required=False),
        ],
        responses={
            200: OfficialStoreFeedSerializer,
            304: OpenApiResponse(description="Not modified: the stores are those of the ETag sent."),
            400: problem("validation_error: `since` is not an ISO 8601 date-time."),
        },
    )
    def get(self, request):
        params = _params(FeedParams, request)
        rows = selectors.official_store_feed(since=params.get("since"))
        stores = FeedStoreSerializer(rows, many=True).data
        digest = hashlib.sha256(json.dumps(stores, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        etag = f'"{digest[:32]}"'
        if _etag_matches(request.headers.get("If-None-Match", ""), etag):
            response = HttpResponse(status=304)
            response["ETag"] = etag
            return response
        body = JSONRenderer().render({"generated_at": timezone.now().isoformat(), "stores": stores})
        response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        secret = self._signing_secret(request)
        if secret:
            msg_id, timestamp = f"feed_{digest[:32]}", int(time.time())
            response[SIGNATURE_HEADER] = sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body)
            response[f"{SIGNATURE_HEADER}-Id"] = msg_id
            response[f"{SIGNATURE_HEADER}-Timestamp"] = str(timestamp)
        return response

    @staticmethod
    def _signing_secret(request) -> str:
        partner_id = getattr(request.auth, "partner_id", None)
        if partner_id is None:
            return ""
        endpoint = (
            WebhookEndpoint.objects.filter(partner_id=partner_id, active=True, deleted_at__isnull=True)
            .order_by("pk")
            .only("secret")
            .first()
        )
        return endpoint.secret if endpoint is not None else ""


__all__ = [
    "CenterDetailView",
    "CenterListView",
    "CenterVerifyView",
    "CoverageView",
    "OfficialStoreFeedView",
    "ServiceDayListView",
    "StoreReportCreateView",
]
