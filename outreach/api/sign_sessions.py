"""Sign-language video sessions over the API, for staff (issue #22 item 4): the sessions of the caller's centers,
mark one prepared, record how it went.

Staff people only -- a staff session, or a key acting as a staff user (scopes ``tickets:read`` to list,
``tickets:write`` to change). A partner key is 403 whatever it names: the list carries the host link, which never
leaves the staff. Another center's session is 404 (``outreach.signlang`` refuses it, and the list never shows it).
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicehub.actors import actor_from_request
from servicehub.api.schema import problem
from servicehub.errors import DomainError, NotFound

from .. import selectors, signlang
from ..choices import SignSessionStatus
from ..models import SignLanguageSession


class SignSessionSerializer(serializers.ModelSerializer):
    center = serializers.CharField(source="center.code", read_only=True)
    service_no = serializers.CharField(source="appointment.ticket.service_no", read_only=True)
    signer = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="The staff member who signs; null: none yet."
    )
    prepared = serializers.SerializerMethodField(help_text="Someone at the center marked the preparation done.")

    class Meta:
        model = SignLanguageSession
        fields = [
            "id",
            "center",
            "service_no",
            "scheduled_start",
            "status",
            "signer",
            "prepared",
            "prepared_at",
            "provider",
            "meeting_id",
            "join_url",
            "host_url",
        ]
        read_only_fields = fields

    def get_prepared(self, obj) -> bool:
        return obj.prepared_at is not None


class SignSessionOutcomeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(SignSessionStatus.HELD, "held"), (SignSessionStatus.NO_SHOW, "no_show")],
        help_text="held: the session took place; no_show: the customer did not join.",
    )


class SignSessionFilter(django_filters.FilterSet):
    center = django_filters.CharFilter(field_name="center__code", help_text="A center code.")
    status = django_filters.ChoiceFilter(choices=SignSessionStatus.choices)
    date = django_filters.DateFilter(method="filter_date", help_text="The local day (Asia/Shanghai) it starts on.")

    class Meta:
        model = SignLanguageSession
        fields = ["center", "status", "date"]

    def filter_date(self, queryset, name, value):
        tz = timezone.get_current_timezone()
        start = timezone.make_aware(dt.datetime.combine(value, dt.time.min), tz)
        return queryset.filter(scheduled_start__gte=start, scheduled_start__lt=start + dt.timedelta(days=1))


def _staff_actor(request):
    actor = actor_from_request(request)
    if actor.user is None or actor.partner is not None:
        raise DomainError("permission_denied", _("Sign-language sessions are for staff people only."), status=403)
    return actor


def _session_id(pk) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such sign-language session.")) from None


def _answer(session: SignLanguageSession) -> Response:
    # The service let the caller change this row; read it back with what the answer names.
    row = SignLanguageSession.objects.select_related("center", "appointment__ticket", "signer").get(pk=session.pk)
    return Response(SignSessionSerializer(row).data)


@extend_schema_view(
    list=extend_schema(
        operation_id="sign_sessions_list",
        summary="Sign-language video sessions at your centers (staff)",
        description=(
            "Paginated, soonest first, with the host link (staff only; partner keys get 403). Scope `tickets:read` "
            "for a staff user's key. Filters: `center` (code), `status`, `date` (local day of the start)."
        ),
        responses={
            200: SignSessionSerializer(many=True),
            400: problem("validation_error: unknown status, date not YYYY-MM-DD."),
            403: problem("permission_denied: staff people only (not partner keys)."),
            404: problem("not_found: page out of range."),
        },
    ),
)
class SignSessionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    required_scopes = {"GET": "tickets:read", "POST": "tickets:write"}
    serializer_class = SignSessionSerializer
    filterset_class = SignSessionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no request user to scope by
            return SignLanguageSession.objects.none()
        return selectors.sign_sessions_visible(actor=_staff_actor(self.request))

    def get_serializer_class(self):
        if self.action == "outcome":
            return SignSessionOutcomeSerializer
        return SignSessionSerializer

    @extend_schema(
        operation_id="sign_sessions_prepared",
        summary="Mark a sign-language session prepared (the signer, the room and the device are ready)",
        description="Idempotent: a prepared session keeps its first `prepared_at`. Scope `tickets:write`.",
        request=None,
        responses={
            200: SignSessionSerializer,
            400: problem("validation_error"),
            403: problem("permission_denied: staff people only; the center's front desk, engineers, managers, HQ."),
            404: problem("not_found: no such session at your centers."),
            409: problem("session_closed: the session is not scheduled any more (held, no-show, cancelled); busy."),
        },
    )
    @action(detail=True, methods=["post"], url_path="prepared")
    def prepared(self, request, pk=None):
        actor = _staff_actor(request)
        session = signlang.sign_session_prepare(session_id=_session_id(pk), actor=actor)
        return _answer(session)

    @extend_schema(
        operation_id="sign_sessions_outcome",
        summary="Record how a sign-language session went: held, or the customer did not join",
        description="Only a scheduled session. Scope `tickets:write`.",
        request=SignSessionOutcomeSerializer,
        responses={
            200: SignSessionSerializer,
            400: problem("validation_error: status must be held or no_show."),
            403: problem("permission_denied: staff people only; the center's front desk, engineers, managers, HQ."),
            404: problem("not_found: no such session at your centers."),
            409: problem("session_closed: the session is not scheduled any more; busy."),
        },
    )
    @action(detail=True, methods=["post"], url_path="outcome")
    def outcome(self, request, pk=None):
        body = SignSessionOutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = _staff_actor(request)
        session = signlang.sign_session_mark(
            session_id=_session_id(pk), status=body.validated_data["status"], actor=actor
        )
        return _answer(session)
