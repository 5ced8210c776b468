"""Admin for partners, API keys and webhooks.

A new key's raw value is shown once (a message after saving); hashes and webhook
secrets are never shown. Partners are network-wide: HQ and superusers see all,
other staff only partners operating one of their centers (and those partners'
keys, endpoints and deliveries).
"""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from servicehub.admin import CenterScopedAdmin
from servicehub.api.permissions import ALL_SCOPES
from servicehub.errors import DomainError

from . import services
from .models import ApiKey, Partner, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class PartnerScopedAdmin(CenterScopedAdmin):
    """Rows of the partners operating one of the staff member's centers (HQ: all)."""

    center_field = "partner__centers"


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ("prefix", "name", "scopes", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(PartnerScopedAdmin):
    center_field = "centers"
    list_display = ("name", "kind", "active", "throttle_rate", "created_at")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    filter_horizontal = ("centers",)
    inlines = [ApiKeyInline]


class ApiKeyAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=[(s, s) for s in ALL_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked = all scopes."),
    )

    class Meta:
        model = ApiKey
        fields = ("name", "partner", "user", "scopes", "centers", "throttle_rate", "expires_at")

    def clean(self):
        data = super().clean()
        partner, centers = data.get("partner"), data.get("centers")
        if partner is not None and centers:
            try:
                services.api_key_centers_check(partner=partner, centers=centers)
            except DomainError as exc:
                self.add_error("centers", exc.message)
        return data


class ApiKeyChangeForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("name", "centers", "throttle_rate", "expires_at")

    def clean_centers(self):
        centers = self.cleaned_data.get("centers")
        if self.instance.partner_id and centers:
            try:
                services.api_key_centers_check(partner=self.instance.partner, centers=centers)
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from exc
        return centers


@admin.register(ApiKey)
class ApiKeyAdmin(PartnerScopedAdmin):
    list_display = ("prefix", "name", "partner", "user", "scopes", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("partner__kind",)
    search_fields = ("prefix", "name", "partner__name", "user__username")
    list_select_related = ("partner", "user")
    filter_horizontal = ("centers",)
    actions = ["revoke_keys"]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = ApiKeyAddForm if obj is None else ApiKeyChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("prefix", "partner", "user", "scopes", "last_used_at", "revoked_at", "created_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApiKeyAddForm.Meta.fields
        return (
            "prefix",
            "name",
            "partner",
            "user",
            "scopes",
            "centers",
            "throttle_rate",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "created_at",
        )

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        try:
            key, raw = services.api_key_create(
                partner=data.get("partner"),
                user=data.get("user"),
                scopes=data.get("scopes") or None,
                centers=list(data.get("centers") or ()),
                name=data.get("name") or "",
                expires_at=data.get("expires_at"),
                throttle_rate=data.get("throttle_rate") or "",
            )
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        obj.pk = key.pk
        obj.prefix = key.prefix
        self.message_user(
            request,
            _("The new key is shown only now; store it: %(key)s") % {"key": raw},
            level=messages.WARNING,
        )

    def save_related(self, request, form, formsets, change):
        if change:  # on add, api_key_create already set the centers
            super().save_related(request, form, formsets, change)

    @admin.action(description=_("Revoke the selected keys"))
    def revoke_keys(self, request, queryset):
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            services.api_key_revoke(key_id=pk)
        self.message_user(request, _("Keys revoked."), level=messages.SUCCESS)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(PartnerScopedAdmin):
    list_display = ("partner", "url", "events", "active", "disabled_reason", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "partner__name")
    list_select_related = ("partner",)
    # Secrets are never shown; rotate to get a new one.
    fields = (
        "partner",
        "url",
        "events",
        "description",
        "active",
        "disabled_reason",
        "disabled_at",
        "previous_secret_expires_at",
        "created_at",
    )
    readonly_fields = (
        "partner",
        "url",
        "events",
        "active",
        "disabled_reason",
        "disabled_at",
        "previous_secret_expires_at",
        "created_at",
    )
    actions = ["disable", "rotate_secret"]

    def has_add_permission(self, request):
        return False  # partners register endpoints through the API (URL checks, secret shown once)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Disable the selected endpoints"))
    def disable(self, request, queryset):
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            services.webhook_endpoint_disable(endpoint_id=pk, reason=str(_("Disabled in the admin.")))
        self.message_user(request, _("Endpoints disabled."), level=messages.SUCCESS)

    @admin.action(description=_("Rotate the secret (shown once)"))
    def rotate_secret(self, request, queryset):
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                endpoint, secret = services.webhook_endpoint_rotate_secret(endpoint_id=pk)
            except DomainError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
                continue
            self.message_user(
                request,
                _("New secret for %(url)s (shown only now): %(secret)s") % {"url": endpoint.url, "secret": secret},
                level=messages.WARNING,
            )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("at", "status_code", "latency_ms", "success", "error", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(PartnerScopedAdmin):
    center_field = "endpoint__partner__centers"
    list_display = (
        "msg_id",
        "endpoint",
        "event_type",
        "status",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("msg_id", "endpoint__url", "endpoint__partner__name")
    list_select_related = ("endpoint__partner",)
    readonly_fields = (
        "endpoint",
        "msg_id",
        "event_type",
        "payload",
        "status",
        "attempt_count",
        "next_attempt_at",
        "last_status_code",
        "delivered_at",
        "created_at",
    )
    exclude = ("claimed_until",)
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Deliver the selected again now"))
    def redeliver(self, request, queryset):
        done = 0
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                services.webhook_delivery_redeliver(delivery_id=pk)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{pk}: {exc.message}", level=messages.ERROR)
        self.message_user(request, _("%(n)d deliveries queued.") % {"n": done}, level=messages.SUCCESS)
