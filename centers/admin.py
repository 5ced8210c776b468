"""Staff UI for the service network. Staff see only their own centers; HQ and superusers see all.

Writes go through ``centers.services`` (create/update/deactivate, CSV import); nothing is deleted.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from servicehub.actors import actor_from_request
from servicehub.admin import HQ, NOBODY, ROLES, SCOPE, CenterScopedAdmin, sees_all_centers
from servicehub.csvsafe import csv_writer
from servicehub.errors import DomainError

from . import services
from .choices import CenterKind, RegionLevel, StaffSkill, StoreReportStatus, Weekday
from .models import (
    Certification,
    OpeningException,
    OpeningHours,
    Region,
    ServiceCenter,
    ServiceDay,
    StaffMembership,
    StaffShift,
    StoreReport,
    StoreReportPhoto,
)

# --- regions ----------------------------------------------------------------------


@admin.register(Region)
class RegionAdmin(CenterScopedAdmin):
    """Read-mostly: loaded by ``load_regions``; only coordinates may be corrected by hand (HQ)."""

    center_field = None
    add_access = NOBODY
    delete_access = NOBODY

    list_display = ["adcode", "name", "level", "parent", "lat", "lng", "is_placeholder"]
    list_filter = ["level", "is_placeholder"]
    search_fields = ["adcode", "name"]
    readonly_fields = ["adcode", "name", "level", "parent", "is_placeholder"]
    fields = ["adcode", "name", "level", "parent", "lat", "lng", "is_placeholder"]
    list_select_related = ["parent"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and sees_all_centers(request)


# --- centers -----------------------------------------------------------------------


class ProvinceFilter(admin.SimpleListFilter):
    title = _("province")
    parameter_name = "province"

    def lookups(self, request, model_admin):
        return list(Region.objects.filter(level=RegionLevel.PROVINCE).order_by("adcode").values_list("adcode", "name"))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(province__adcode=self.value())
        return queryset


class OpeningHoursFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        by_day: dict[int, list] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or data.get("weekday") is None or not data.get("opens") or not data.get("closes"):
                continue
            by_day.setdefault(data["weekday"], []).append((data["opens"], data["closes"]))
        for weekday, intervals in by_day.items():
            intervals.sort()
            if any(intervals[i - 1][1] > intervals[i][0] for i in range(1, len(intervals))):
                raise forms.ValidationError(
                    gettext("Opening hours overlap on %(day)s.") % {"day": Weekday(weekday).label}
                )


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    formset = OpeningHoursFormSet
    extra = 0
    fields = ["weekday", "opens", "closes"]


class OpeningExceptionInline(admin.TabularInline):
    model = OpeningException
    extra = 0
    fields = ["date", "closed", "opens", "closes", "reason_code", "reason"]

    def get_queryset(self, request):
        # Past exceptions are history; show today onwards.
        return super().get_queryset(request).filter(date__gte=timezone.localdate())


class ServiceCenterForm(forms.ModelForm):
    class Meta:
        model = ServiceCenter
        fields = [
            "code",
            "name",
            "kind",
            "official",
            "region",
            "address",
            "lat",
            "lng",
            "phone",
            "services",
            "hub",
            "opened_on",
            "service_days_opt_out",
            "opens_on_public_holidays",
        ]

    def clean(self):
        data = super().clean()
        values = {k: data[k] for k in ("name", "kind", "lat", "lng", "services", "hub") if k in data}
        try:
            services.center_values_validate(
                values=values, region=data.get("region"), center=self.instance if self.instance.pk else None
            )
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


class CsvImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, with a header row; see the export for the format."))


@admin.register(ServiceCenter)
class ServiceCenterAdmin(CenterScopedAdmin):
    center_field = "pk"  # a staff member sees and edits their own centers
    delete_access = NOBODY  # centers are deactivated, never deleted
    form = ServiceCenterForm
    change_list_template = "admin/centers/servicecenter/change_list.html"
    list_display = ["code", "name", "kind", "province", "city", "official", "active", "phone"]
    list_filter = ["kind", ProvinceFilter, "official", "active"]
    search_fields = ["code", "name", "phone", "phone_digits"]
    list_select_related = ["province", "city"]
    autocomplete_fields = ["region", "hub"]
    readonly_fields = ["city", "province", "active", "created_at", "updated_at"]
    inlines = [OpeningHoursInline, OpeningExceptionInline]
    actions = ["export_csv", "deactivate", "reactivate"]
    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request):
        return super().has_add_permission(request) and sees_all_centers(request)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("code")
        return fields

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in form.changed_data if f in form.cleaned_data}
        actor = actor_from_request(request)
        if not change:
            created = services.center_create(
                actor=actor,
                **{
                    k: form.cleaned_data[k]
                    for k in (
                        "code",
                        "name",
                        "kind",
                        "official",
                        "region",
                        "address",
                        "lat",
                        "lng",
                        "phone",
                        "services",
                        "hub",
                        "opened_on",
                    )
                },
            )
            if "opens_on_public_holidays" in form.changed_data:  # else the kind's default applies
                services.center_update(
                    center_id=created.pk,
                    actor=actor,
                    opens_on_public_holidays=form.cleaned_data["opens_on_public_holidays"],
                )
            if form.cleaned_data.get("service_days_opt_out"):
                services.center_update(center_id=created.pk, actor=actor, service_days_opt_out=True)
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        region = data.pop("region", None)
        if data or region is not None:
            services.center_update(center_id=obj.pk, actor=actor, region=region, **data)
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The hours and exceptions inlines are saved here, not through the services.
        services.center_cache_bump(code=form.instance.code)

    # --- actions ---

    @admin.action(description=_("Export selected centers as CSV"))
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="centers-{date.today():%Y%m%d}.csv"'
        response.write("\ufeff")  # so spreadsheet programs read UTF-8
        writer = csv_writer(response)  # formula-neutral: a name like =HYPERLINK(...) is text
        writer.writerow(services.CSV_COLUMNS)
        for center in queryset.select_related("region", "hub").order_by("code").iterator(chunk_size=2000):
            writer.writerow(services.center_csv_row(center))
        return response

    @admin.action(description=_("Deactivate selected centers"))
    def deactivate(self, request, queryset):
        done = 0
        # Spokes first, so a hub selected together with all its collection points can close too.
        rows = sorted(queryset.values_list("kind", "pk"), key=lambda r: (r[0] != CenterKind.COLLECTION_POINT, r[1]))
        for _kind, center_id in rows:
            try:
                services.center_deactivate(center_id=center_id, actor=actor_from_request(request))
                done += 1
            except DomainError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
        if done:
            self.message_user(request, gettext("%(n)d center(s) deactivated.") % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Reactivate selected centers"))
    def reactivate(self, request, queryset):
        done = 0
        for center_id in queryset.filter(active=False).order_by("pk").values_list("pk", flat=True):
            services.center_update(center_id=center_id, actor=actor_from_request(request), active=True)
            done += 1
        self.message_user(request, gettext("%(n)d center(s) reactivated.") % {"n": done}, messages.SUCCESS)

    # --- CSV import ---

    def get_urls(self):
        return [
            path(
                "import-csv/",
                self.admin_site.admin_view(self.import_csv_view),
                name="centers_servicecenter_import_csv",
            )
        ] + super().get_urls()

    def has_import_permission(self, request) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_csv_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        errors: dict = {}
        form = CsvImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["file"].read()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                form.add_error("file", gettext("The file is not UTF-8 text."))
            else:
                try:
                    result = services.centers_import_csv(text=text, actor=actor_from_request(request))
                except DomainError as exc:
                    form.add_error(None, exc.message)
                    errors = exc.extra.get("errors") or ({exc.field: [exc.message]} if exc.field else {})
                else:
                    self.message_user(
                        request,
                        gettext("Imported: %(c)d created, %(u)d updated, %(n)d unchanged.")
                        % {"c": result.created, "u": result.updated, "n": result.unchanged},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:centers_servicecenter_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Import centers from CSV"),
            "form": form,
            "row_errors": sorted(errors.items(), key=lambda kv: (len(kv[0]), kv[0])),
            "columns": services.CSV_COLUMNS,
        }
        return TemplateResponse(request, "admin/centers/servicecenter/import_csv.html", context)


# --- staff ----------------------------------------------------------------------------


class StaffMembershipForm(forms.ModelForm):
    """``skills`` (a JSON list) as ticks of the known skills: nothing else can be stored."""

    skills = forms.MultipleChoiceField(
        label=_("skills"), choices=StaffSkill.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = StaffMembership
        fields = ["user", "center", "role", "active", "skills"]


@admin.register(StaffMembership)
class StaffMembershipAdmin(CenterScopedAdmin):
    # Scoped by the base: the rows and the center choices are the actor's centers.
    form = StaffMembershipForm
    list_display = ["user", "center", "role", "active", "signs", "created_at"]
    list_filter = ["role", "active"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "center__code", "center__name"]
    autocomplete_fields = ["user", "center"]
    list_select_related = ["user", "center"]

    @admin.display(description=_("signs"), boolean=True)
    def signs(self, obj):
        return StaffSkill.SIGN_LANGUAGE in (obj.skills or [])

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        if actor.center_ids is not None and (obj.center_id is None or obj.center_id not in actor.center_ids):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


@admin.register(StaffShift)
class StaffShiftAdmin(CenterScopedAdmin):
    """The roster: managers plan the shifts of their center; everyone at the center sees it. Escalations of
    overdue repairs go to the managers on shift (``centers.selectors.managers_on_shift``)."""

    view_access = SCOPE
    add_access = ROLES
    change_access = ROLES
    delete_access = NOBODY  # a wrong shift is corrected (its times), not deleted
    roles = frozenset({"manager"})
    list_display = ["starts_at", "ends_at", "center", "user", "signs", "note"]
    list_filter = [("starts_at", admin.DateFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "center__code"]
    list_select_related = ["user", "center"]
    fields = ["center", "user", "starts_at", "ends_at", "note"]
    date_hierarchy = "starts_at"

    def get_queryset(self, request):
        # Whether the person signs at this center (StaffMembership.skills), read in the same query as the rows.
        skills = (
            StaffMembership.objects.filter(user_id=OuterRef("user_id"), center_id=OuterRef("center_id"), active=True)
            .exclude(skills=[])
            .values("skills")[:1]
        )
        return super().get_queryset(request).annotate(member_skills=Subquery(skills, output_field=models.JSONField()))

    @admin.display(description=_("signs (sign language)"), boolean=True)
    def signs(self, obj):
        return StaffSkill.SIGN_LANGUAGE in (getattr(obj, "member_skills", None) or [])

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":  # the people of the manager's centers (the model checks the shift's own)
            actor = actor_from_request(request)
            staff = StaffMembership.objects.filter(active=True).exclude(center=None)
            if not actor.sees_all_centers:
                staff = staff.filter(center_id__in=actor.center_ids or ())
            kwargs["queryset"] = db_field.related_model._default_manager.filter(
                pk__in=staff.values("user_id")
            ).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        if not (actor.sees_all_centers or actor.has_role("manager", obj.center_id)):
            raise PermissionDenied  # a manager plans the shifts of their own centers only
        super().save_model(request, obj, form, change)


class CertificationValidFilter(admin.SimpleListFilter):
    title = _("valid today")
    parameter_name = "valid"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.filter(issued_on__lte=today, expires_on__gte=today)
        if self.value() == "no":
            return queryset.exclude(issued_on__lte=today, expires_on__gte=today)
        return queryset


@admin.register(Certification)
class CertificationAdmin(CenterScopedAdmin):
    center_field = None  # a person's, visible through their memberships (below)
    list_display = ["user", "name", "number", "issued_on", "expires_on", "is_valid"]
    list_filter = [CertificationValidFilter]
    search_fields = ["user__username", "name", "number"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]

    @admin.display(boolean=True, description=_("valid today"))
    def is_valid(self, obj):
        return obj.issued_on <= timezone.localdate() <= obj.expires_on

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        actor = actor_from_request(request)
        if actor.center_ids is None:
            return qs
        users = StaffMembership.objects.filter(center_id__in=actor.center_ids).values("user_id")
        return qs.filter(user_id__in=users)


@admin.register(ServiceDay)
class ServiceDayAdmin(CenterScopedAdmin):
    add_access = NOBODY  # generated monthly by service_days_generate
    delete_access = NOBODY  # untick "active" to opt a center out of a day
    list_display = ["center", "date", "active"]
    list_filter = ["active", ("date", admin.DateFieldListFilter)]
    search_fields = ["center__code", "center__name"]
    list_select_related = ["center"]
    readonly_fields = ["center", "date", "perks"]
    fields = ["center", "date", "perks", "active"]
    date_hierarchy = "date"
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.center_cache_bump(code=obj.center.code)


# --- store reports (issue #22) ---------------------------------------------------------------------------
# HQ's triage queue of the stores the public reported: filtered by status and province with counts, photos
# on the change page (served only here, to HQ), status changes with a note, and a CSV for the authorities.

# The export is for the Chinese authorities: headers and statuses in Chinese whatever the staff's language.
STORE_REPORT_CSV_HEADERS = [
    "编号",
    "店名",
    "地址",
    "电话",
    "省份",
    "地区",
    "举报说明",
    "照片数",
    "举报时间",
    "处理状态",
    "处理说明",
    "处理人",
    "处理时间",
]
STORE_REPORT_STATUS_ZH = {
    StoreReportStatus.NEW: "新举报",
    StoreReportStatus.INVESTIGATING: "调查中",
    StoreReportStatus.CONFIRMED_UNOFFICIAL: "确认非官方",
    StoreReportStatus.OFFICIAL_AFTER_ALL: "实为官方",
    StoreReportStatus.DISMISSED: "不予处理",
}


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


class StoreReportActionForm(ActionForm):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"id": "action-note", "size": 60}),
    )


class StoreReportForm(forms.ModelForm):
    class Meta:
        model = StoreReport
        fields = ["status", "triage_note"]

    def clean(self):
        data = super().clean()
        refusal = services.store_report_triage_refusal(
            status=data.get("status") or "", note=data.get("triage_note") or ""
        )
        if refusal is not None:
            raise forms.ValidationError({refusal.field or "status": refusal.message})
        return data


class StoreReportPhotoInline(admin.TabularInline):
    model = StoreReportPhoto
    extra = 0
    can_delete = False
    fields = ["shown", "width", "height", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return sees_all_centers(request)

    @admin.display(description=_("photo"))
    def shown(self, obj):
        url = reverse("admin:centers_storereport_photo", args=[obj.report_id, obj.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img class="store-report-photo" src="{}" alt="{}" '
            'style="max-width:320px;max-height:320px"></a>',
            url,
            url,
            gettext("Photo of the reported store"),
        )


@admin.register(StoreReport)
class StoreReportAdmin(CenterScopedAdmin):
    center_field = None  # network-wide: HQ only
    view_access = HQ
    change_access = HQ
    add_access = NOBODY  # the public reports (web page, API)
    delete_access = NOBODY  # the status records the outcome
    form = StoreReportForm
    inlines = [StoreReportPhotoInline]
    list_display = ["reference_shown", "name", "address", "phone", "province", "status", "photo_count", "created_at"]
    list_display_links = ["reference_shown", "name"]
    list_filter = ["status", ("province", admin.RelatedOnlyFieldListFilter)]
    show_facets = admin.ShowFacets.ALWAYS
    search_fields = ["=id", "name", "address", "phone"]
    list_select_related = ["province"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    fields = [
        "reference_shown",
        "name",
        "address",
        "phone",
        "region",
        "province",
        "note",
        "reporter_contact",
        "created_at",
        "status",
        "triage_note",
        "handled_by",
        "handled_at",
    ]
    readonly_fields = [f for f in fields if f not in ("status", "triage_note")]
    action_form = StoreReportActionForm
    actions = [
        "mark_investigating",
        "mark_confirmed_unofficial",
        "mark_official_after_all",
        "mark_dismissed",
        "export_csv",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_photos=Count("photos"))

    @admin.display(description=_("report number"), ordering="pk")
    def reference_shown(self, obj):
        return obj.reference

    @admin.display(description=_("photos"), ordering="_photos")
    def photo_count(self, obj):
        return getattr(obj, "_photos", None)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- triage -------------------------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        # Only status and note are editable; the service records who and when (and checks the HQ role).
        try:
            services.store_report_triage(
                actor=actor_from_request(request),
                report_ids=[obj.pk],
                status=form.cleaned_data["status"],
                note=form.cleaned_data.get("triage_note") or "",
            )
        except DomainError as exc:  # only a lost HQ role gets here: the form checked the rest
            raise PermissionDenied(exc.message) from exc

    def _triage(self, request, queryset, status):
        try:
            n = services.store_report_triage(
                actor=actor_from_request(request),
                report_ids=list(queryset.values_list("pk", flat=True)),
                status=status,
                note=request.POST.get("note", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return
        label = StoreReportStatus(status).label
        messages.success(request, gettext("%(n)d report(s) set to “%(status)s”.") % {"n": n, "status": label})

    @admin.action(description=_("Mark as investigating"), permissions=["change"])
    def mark_investigating(self, request, queryset):
        self._triage(request, queryset, StoreReportStatus.INVESTIGATING)

    @admin.action(description=_("Mark as confirmed unofficial (note required)"), permissions=["change"])
    def mark_confirmed_unofficial(self, request, queryset):
        self._triage(request, queryset, StoreReportStatus.CONFIRMED_UNOFFICIAL)

    @admin.action(description=_("Mark as official after all (note required)"), permissions=["change"])
    def mark_official_after_all(self, request, queryset):
        self._triage(request, queryset, StoreReportStatus.OFFICIAL_AFTER_ALL)

    @admin.action(description=_("Dismiss (note required)"), permissions=["change"])
    def mark_dismissed(self, request, queryset):
        self._triage(request, queryset, StoreReportStatus.DISMISSED)

    # --- export for the authorities ------------------------------------------------------------------

    @admin.action(description=_("Export for the authorities (CSV)"), permissions=["view"])
    def export_csv(self, request, queryset):
        rows = (
            queryset.select_related("province", "region", "handled_by").annotate(_photos=Count("photos")).order_by("pk")
        )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="store-reports-{stamp}.csv"'
        response.write("\ufeff")  # the BOM: Excel then reads the file as UTF-8 (Chinese shown right)
        writer = csv_writer(response)
        writer.writerow(STORE_REPORT_CSV_HEADERS)
        for r in rows:
            writer.writerow(
                [
                    r.reference,
                    r.name,
                    r.address,
                    r.phone,
                    r.province.name if r.province else "",
                    r.region.name if r.region else "",
                    r.note,
                    r._photos,
                    _local(r.created_at),
                    STORE_REPORT_STATUS_ZH.get(r.status, r.status),
                    r.triage_note,
                    r.handled_by.get_username() if r.handled_by else "",
                    _local(r.handled_at),
                ]
            )
        return response

    # --- photos, to HQ only --------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:pk>/photo/<int:photo_pk>/",
                self.admin_site.admin_view(self.photo_view),
                name="centers_storereport_photo",
            ),
            *super().get_urls(),
        ]

    def photo_view(self, request, pk: int, photo_pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        photo = StoreReportPhoto.objects.filter(pk=photo_pk, report_id=pk).first()
        if photo is None:
            raise Http404
        response = FileResponse(photo.image.open("rb"), content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        return response
