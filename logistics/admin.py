"""Shipments in the admin: read-only custody chain; staff see their centers' shipments only."""

from django.contrib import admin

from servicehub.admin import NOBODY, CenterScopedAdmin

from .models import Shipment, ShipmentEvent


class ShipmentEventInline(admin.TabularInline):
    model = ShipmentEvent
    fields = ("event", "at", "tracking_no", "seal_no", "seal_ok", "actor_label", "ticket_action", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shipment)
class ShipmentAdmin(CenterScopedAdmin):
    center_field = ("ticket__center", "ticket__origin_center")
    add_access = NOBODY  # created by the repairs flow / the API through logistics.services
    delete_access = NOBODY
    list_display = ("id", "ticket", "leg", "courier", "tracking_no", "seal_no", "status", "created_at")
    list_filter = ("leg", "status")
    search_fields = ("tracking_no", "seal_no", "ticket__service_no")
    list_select_related = ("ticket",)
    readonly_fields = (
        "ticket",
        "leg",
        "status",
        "seal_no",
        "origin_center",
        "destination_center",
        "created_at",
        "delivered_at",
    )
    fields = (
        "ticket",
        "leg",
        "status",
        "courier",
        "courier_partner",
        "tracking_no",
        "seal_no",
        "address",
        "origin_center",
        "destination_center",
        "created_at",
        "delivered_at",
    )
    raw_id_fields = ("courier_partner",)
    inlines = [ShipmentEventInline]
