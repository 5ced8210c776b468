"""Staff pages of outreach (issue #22).

Quick visits (visits): the catalog (HQ), the visit list (read-only, by center), the guest book, and the desk page
``/admin/outreach/visit/desk/``: one tap per service records one visit, today's counts, undo of the last tap.

Community events and classes, their registrations, and the door:

- Events: managers plan the events of their centers (HQ all); the desk and engineers see them. The places
  taken change only through the services (sign-up, cancel), never by a form: saving an event re-reads the
  count under the event's lock (``services.event_details_save``).
- At the door (``<event>/door/``): type the door code or the last 4 digits of the phone, pick the person, mark
  attended in one click. Afterwards (``<event>/close/``): the ones who did not come become no-shows and the
  results note is written.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from centers.models import ServiceCenter
from centers.selectors import center_promotion_on, local_now
from servicehub.actors import actor_from_request
from servicehub.admin import (
    HQ,
    NOBODY,
    ROLES,
    SCOPE,
    CenterScopedAdmin,
    CenterScopedTabularInline,
    desk_center,
    has_any_role,
)
from servicehub.errors import DomainError
from servicehub.masking import mask_phone

from . import selectors, services, signlang
from . import visits as visit_services
from .choices import RegistrationStatus, SignSessionStatus
from .models import Event, GuestBookEntry, PerkRedemption, Registration, SignLanguageSession, Visit, VisitService
from .visit_selectors import last_undoable, services_with_counts

# --- quick visits ------------------------------------------------------------------------------------


@admin.register(VisitService)
class VisitServiceAdmin(CenterScopedAdmin):
    center_field = None
    view_access = ROLES
    roles = frozenset(visit_services.DESK_ROLES)
    add_access = HQ
    change_access = HQ
    delete_access = NOBODY  # untick "active" instead
    list_display = ("code", "name_zh", "name_en", "kind", "perk", "position", "active")
    list_filter = ("kind", "perk", "active")
    list_editable = ("position", "active")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(Visit)
class VisitAdmin(CenterScopedAdmin):
    view_access = ROLES
    roles = frozenset(visit_services.DESK_ROLES)
    add_access = NOBODY  # recorded on the desk page through outreach.visits
    change_access = NOBODY
    delete_access = NOBODY
    list_display = (
        "at",
        "center",
        "service",
        "count",
        "any_brand",
        "during_service_day",
        "during_new_store_month",
        "perk",
        "status",
        "staff",
    )
    list_filter = ("status", "during_service_day", "during_new_store_month", "perk", "service")
    list_select_related = ("center", "service", "staff")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in Visit._meta.fields]

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("desk/", wrap(self.desk_view), name="outreach_visit_desk"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "desk_url": reverse("admin:outreach_visit_desk")}
        return super().changelist_view(request, extra_context)

    # --- the desk page ---------------------------------------------------------------------------

    def desk_view(self, request):
        if not has_any_role(request, visit_services.DESK_ROLES):
            raise PermissionDenied
        actor, centers, choices, center = desk_center(
            request, visit_services.DESK_ROLES, ServiceCenter.objects.filter(active=True)
        )
        if request.method == "POST" and center is not None:
            self._desk_post(request, actor, center)
            return HttpResponseRedirect(reverse("admin:outreach_visit_desk") + "?" + urlencode({"center": center.code}))
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Quick visits at the desk"),
            "center": center,
            "centers": choices,
            "has_view_permission": True,
            "is_nav_sidebar_enabled": False,  # the whole width for the buttons (a tablet at the desk)
        }
        if center is not None:
            day = local_now(now).date()
            services = services_with_counts(center_id=center.pk, day=day)
            promotion = center_promotion_on(center=center, day=day)
            for s in services:
                s.free_today = visit_services.perk_offered(s, promotion)
            context.update(
                services=services,
                total=sum(s.today for s in services),
                promotion=promotion,
                day=day,
                last=last_undoable(user=request.user, center_id=center.pk, now=now),
            )
        return TemplateResponse(request, "admin/outreach/visit_desk.html", context)

    def _desk_post(self, request, actor, center) -> None:
        post = request.POST
        try:
            if "undo" in post:
                visit = visit_services.visit_void(actor=actor, visit_id=int(post.get("undo") or 0))
                self.message_user(
                    request, gettext("Undone: %(service)s.") % {"service": visit.service.name}, messages.SUCCESS
                )
            elif "guest_message" in post:
                visit_services.guest_book_write(
                    actor=actor,
                    center_id=center.pk,
                    message=post.get("guest_message", ""),
                    name=post.get("guest_name", ""),
                )
                self.message_user(request, gettext("Thank you: the message is in the guest book."), messages.SUCCESS)
            else:
                visit = visit_services.visit_record(
                    actor=actor,
                    center_id=center.pk,
                    service=post.get("service", ""),
                    count=post.get("count") or 1,
                    any_brand=post.get("any_brand") == "1",
                    brand=post.get("brand", ""),
                    phone=post.get("phone", ""),
                )
                text = gettext("Recorded: %(service)s × %(count)d.") % {
                    "service": visit.service.name,
                    "count": visit.count,
                }
                if visit.perk:
                    text += " " + gettext("Free perk used.")
                self.message_user(request, text, messages.SUCCESS)
        except (DomainError, ValueError) as exc:
            self.message_user(request, getattr(exc, "message", gettext("Not a valid request.")), messages.ERROR)


@admin.register(PerkRedemption)
class PerkRedemptionAdmin(CenterScopedAdmin):
    center_field = "visit__center"
    view_access = ROLES
    roles = frozenset(visit_services.DESK_ROLES)
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY
    list_display = ("at", "service", "phone_last4", "period", "active")
    list_filter = ("active", "service")
    list_select_related = ("service",)
    readonly_fields = [f.name for f in PerkRedemption._meta.fields]


@admin.register(GuestBookEntry)
class GuestBookEntryAdmin(CenterScopedAdmin):
    view_access = ROLES
    roles = frozenset(visit_services.DESK_ROLES)
    add_access = NOBODY  # written on the desk page
    change_access = ROLES  # hide an entry (never deleted)
    delete_access = NOBODY
    list_display = ("at", "center", "name", "message", "hidden")
    list_filter = ("hidden",)
    list_select_related = ("center",)
    fields = ("center", "name", "message", "at", "staff", "hidden")
    readonly_fields = ("center", "name", "message", "at", "staff")


class RegistrationInline(CenterScopedTabularInline):
    model = Registration
    center_field = None
    extra = 0
    can_delete = False
    fields = ["name", "masked_phone", "code", "status", "attended_at", "created_at"]
    readonly_fields = fields
    view_access = SCOPE
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)


class EventForm(forms.ModelForm):
    class Meta:
        model = Event
        fields = [
            "kind",
            "title_zh",
            "title_en",
            "center",
            "public",
            "sign_language",
            "starts_at",
            "ends_at",
            "venue_name",
            "venue_address",
            "capacity",
            "description_zh",
            "description_en",
        ]

    def clean(self):
        data = super().clean()
        if data.get("kind") == "staff_training":
            data["public"] = False  # trainings are never on the public site
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", gettext("The event must end after it starts."))
        if self.instance.pk and data.get("capacity") is not None and data["capacity"] < self.instance.places_taken:
            self.add_error(
                "capacity",
                gettext("%(n)d places are taken already: the capacity cannot be lower.")
                % {"n": self.instance.places_taken},
            )
        return data


@admin.register(Event)
class EventAdmin(CenterScopedAdmin):
    form = EventForm
    view_access = SCOPE
    add_access = ROLES
    change_access = ROLES
    delete_access = NOBODY
    roles = frozenset({"manager"})
    list_display = [
        "title_zh",
        "kind",
        "center",
        "starts_at",
        "venue_name",
        "capacity",
        "places_taken",
        "status",
        "door_link",
    ]
    list_filter = ["kind", "status", "public", ("center", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["center"]
    search_fields = ["title_zh", "title_en", "venue_name", "venue_address"]
    date_hierarchy = "starts_at"
    readonly_fields = ["places_taken", "status", "results_note", "devices_checked", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["kind", "title_zh", "title_en", "center", "public", "sign_language", "status"]}),
        (_("When and where"), {"fields": ["starts_at", "ends_at", "venue_name", "venue_address"]}),
        (_("Places"), {"fields": ["capacity", "places_taken"]}),
        (_("Description"), {"fields": ["description_zh", "description_en"]}),
        (_("Results"), {"fields": ["results_note", "devices_checked", "created_at", "updated_at"]}),
    ]
    inlines = [RegistrationInline]
    actions = ["cancel_events"]

    @admin.display(description=_("at the door"))
    def door_link(self, obj):
        return format_html(
            '<a href="{}" class="door-link">{}</a>',
            reverse("admin:outreach_event_door", args=[obj.pk]),
            gettext("Door"),
        )

    def save_model(self, request, obj, form, change):
        services.event_details_save(event=obj, actor=actor_from_request(request), creating=not change)

    @admin.action(description=_("Cancel the selected events"))
    def cancel_events(self, request, queryset):
        actor, done = actor_from_request(request), 0
        for event_id in queryset.values_list("pk", flat=True):
            try:
                services.event_cancel(event_id=event_id, actor=actor)
                done += 1
            except DomainError as exc:
                messages.error(request, f"{event_id}: {exc.message}")
        if done:
            messages.success(request, gettext("%(n)d events cancelled.") % {"n": done})

    def get_urls(self):
        return [
            path("<int:pk>/door/", self.admin_site.admin_view(self.door_view), name="outreach_event_door"),
            path("<int:pk>/close/", self.admin_site.admin_view(self.close_view), name="outreach_event_close"),
        ] + super().get_urls()

    def _event(self, request, pk):
        return get_object_or_404(self.get_queryset(request).select_related("center"), pk=pk)

    def door_view(self, request, pk):
        """Find a registration by door code or the phone's last 4 digits, mark it attended in one click."""
        event = self._event(request, pk)
        if not self.has_view_permission(request, event):
            raise PermissionDenied
        door_url = reverse("admin:outreach_event_door", args=[event.pk])
        if request.method == "POST":
            raw = request.POST.get("registration", "")
            registration_id = int(raw) if raw.isdigit() else 0
            if not Registration.objects.filter(pk=registration_id, event=event).exists():
                # A stale or crafted id (another event's): nothing is marked.
                messages.error(request, gettext("That registration belongs to another event."))
                return HttpResponseRedirect(door_url)
            try:
                registration = services.registration_mark_attended(
                    registration_id=registration_id, actor=actor_from_request(request)
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, gettext("%(name)s is checked in.") % {"name": registration.name})
            return HttpResponseRedirect(door_url)
        query = request.GET.get("q", "").strip()
        matches = selectors.door_matches(event=event, query=query) if query else []
        registrations = list(
            Registration.objects.filter(event=event).exclude(status=RegistrationStatus.CANCELLED).order_by("name", "pk")
        )
        counts = dict.fromkeys(RegistrationStatus.values, 0)
        for r in registrations:
            counts[r.status] += 1
            r.masked_phone = mask_phone(r.phone)
        for r in matches:
            r.masked_phone = mask_phone(r.phone)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("At the door: %(event)s") % {"event": event.title},
            "event": event,
            "query": query,
            "matches": matches,
            "registrations": registrations,
            "counts": counts,
            "searched": bool(query),
        }
        return TemplateResponse(request, "admin/outreach/door.html", context)

    def close_view(self, request, pk):
        """After the event: the remaining become no-shows; the results note is written; the event is done."""
        event = self._event(request, pk)
        form = CloseForm(request.POST or None, initial={"results_note": event.results_note})
        if request.method == "POST" and form.is_valid():
            try:
                marked = services.event_close(
                    event_id=event.pk,
                    actor=actor_from_request(request),
                    results_note=form.cleaned_data["results_note"],
                    devices_checked=form.cleaned_data["devices_checked"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("Event closed: %(n)d marked as did not come.") % {"n": marked})
                return HttpResponseRedirect(reverse("admin:outreach_event_door", args=[event.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Close %(event)s") % {"event": event.title},
            "event": event,
            "form": form,
            "waiting": Registration.objects.filter(event=event, status=RegistrationStatus.REGISTERED).count(),
        }
        return TemplateResponse(request, "admin/outreach/close.html", context, status=400 if form.errors else 200)


class CloseForm(forms.Form):
    results_note = forms.CharField(
        label=_("Results"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was done: devices checked, people helped, questions asked."),
    )
    devices_checked = forms.IntegerField(label=_("Devices checked"), min_value=0, required=False)


@admin.register(Registration)
class RegistrationAdmin(CenterScopedAdmin):
    center_field = "event__center"
    view_access = SCOPE
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY
    list_display = ["event", "name", "masked_phone", "code", "status", "attended_at", "created_at"]
    list_filter = ["status", "event__kind"]
    list_select_related = ["event"]
    search_fields = ["=code", "name", "event__title_zh"]
    actions = ["cancel_registrations"]

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    @admin.action(description=_("Cancel the selected registrations (frees their places)"))
    def cancel_registrations(self, request, queryset):
        actor, done = actor_from_request(request), 0
        for registration_id in queryset.values_list("pk", flat=True):
            try:
                services.registration_cancel(registration_id=registration_id, actor=actor)
                done += 1
            except DomainError as exc:
                messages.error(request, f"{registration_id}: {exc.message}")
        if done:
            messages.success(request, gettext("%(n)d registrations cancelled.") % {"n": done})


# --- sign-language video sessions (issue #22 item 4) --------------------------------------------------------------


@admin.register(SignLanguageSession)
class SignLanguageSessionAdmin(CenterScopedAdmin):
    """The sessions of the staff's centers (HQ all). Rows come from bookings (``outreach.signlang``); staff
    prepare them (from here or "Today at the desk") and record how they went. Nothing is added or deleted."""

    view_access = SCOPE
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY
    list_display = ["scheduled_start", "center", "service_no", "status", "signer", "prepared_at", "host_link"]
    list_filter = ["status", ("prepared_at", admin.EmptyFieldListFilter)]
    list_select_related = ["center", "signer", "appointment__ticket"]
    date_hierarchy = "scheduled_start"
    search_fields = ["appointment__ticket__service_no"]
    actions = ["mark_prepared", "mark_held", "mark_no_show"]

    @admin.display(description=_("service number"), ordering="appointment__ticket__service_no")
    def service_no(self, obj):
        return obj.appointment.ticket.service_no

    @admin.display(description=_("host link (staff)"))
    def host_link(self, obj):
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', obj.host_url, gettext("Open")
        )

    def _each(self, request, queryset, call, done_message):
        actor, done = actor_from_request(request), 0
        for session_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                call(session_id=session_id, actor=actor)
                done += 1
            except DomainError as exc:
                messages.error(request, f"{session_id}: {exc.message}")
        if done:
            messages.success(request, done_message % {"n": done})

    @admin.action(description=_("Mark prepared"))
    def mark_prepared(self, request, queryset):
        self._each(request, queryset, signlang.sign_session_prepare, gettext("%(n)d sessions marked prepared."))

    @admin.action(description=_("Mark held"))
    def mark_held(self, request, queryset):
        def call(*, session_id, actor):
            signlang.sign_session_mark(session_id=session_id, status=SignSessionStatus.HELD, actor=actor)

        self._each(request, queryset, call, gettext("%(n)d sessions marked held."))

    @admin.action(description=_("Mark: the customer did not join"))
    def mark_no_show(self, request, queryset):
        def call(*, session_id, actor):
            signlang.sign_session_mark(session_id=session_id, status=SignSessionStatus.NO_SHOW, actor=actor)

        self._each(request, queryset, call, gettext("%(n)d sessions marked as not joined."))

    def get_urls(self):
        return [
            path(
                "<int:pk>/prepare/",
                self.admin_site.admin_view(self.prepare_view),
                name="outreach_signlanguagesession_prepare",
            ),
        ] + super().get_urls()

    def prepare_view(self, request, pk):
        """POST from "Today at the desk": mark one session prepared, back to the page it came from."""
        if request.method != "POST":
            raise PermissionDenied
        back = request.POST.get("next") or reverse("admin:repairs_repairticket_today")
        if not back.startswith("/admin/"):
            back = reverse("admin:repairs_repairticket_today")
        try:
            signlang.sign_session_prepare(session_id=pk, actor=actor_from_request(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, gettext("Session marked prepared."))
        return HttpResponseRedirect(back)
