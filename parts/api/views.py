"""Stock API: a thin view over ``parts.selectors`` (scope ``parts:read``)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from centers.models import ServiceCenter
from servicehub.actors import actor_from_request
from servicehub.api.schema import problem
from servicehub.errors import NotFound

from .. import selectors
from ..models import StockLevel
from .serializers import StockRowSerializer


class CenterStockView(generics.ListAPIView):
    required_scopes = {"GET": "parts:read"}
    serializer_class = StockRowSerializer

    @extend_schema(
        summary="Stock of parts at a center",
        description=(
            "On hand, reserved for tickets and available, per part, ordered by part number. Scope `parts:read`; "
            "a key sees the centers it is scoped to (HQ: all)."
        ),
        parameters=[
            OpenApiParameter("part", str, description="Only this part number."),
            OpenApiParameter("model", str, description="Only parts fitting this device model code."),
        ],
        responses={
            200: StockRowSerializer(many=True),
            400: problem("validation_error: a bad query parameter."),
            404: problem("not_found: no such center among yours, or no such page."),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no center in the URL
            return StockLevel.objects.none()
        actor = actor_from_request(self.request)
        center = ServiceCenter.objects.filter(code=self.kwargs["code"]).only("pk").first()
        if center is None or not actor.can_see_center(center.pk):
            raise NotFound(_("No such center."))
        params = self.request.query_params
        return selectors.stock_levels(
            location_id=center.pk, part=params.get("part", "").strip(), model=params.get("model", "").strip()
        )
