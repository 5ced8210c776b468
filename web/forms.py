"""Public forms. They check shape only; rules live in booking/warranty/repairs services."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.choices import CallbackTopic, TimeWindow
from repairs.choices import FaultCategory
from warranty.identity import DEVICE_ID_REQUIRED, device_id_given

STAR_CHOICES = [(i, str(i)) for i in range(1, 6)]


class Form(forms.Form):
    """No trailing colon after labels (reads better in Chinese and for screen readers)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _model_choices():
    from warranty.models import DeviceModel

    return [("", _("I don't know / already registered"))] + [
        (m.code, m.name) for m in DeviceModel.objects.filter(active=True).order_by("name", "code")
    ]


class ContactDeviceForm(Form):
    """Who the customer is and which device; shared by booking, mail-in and on-site."""

    name = forms.CharField(label=_("Your name"), max_length=100)
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    imei = forms.CharField(
        label=_("IMEI"),
        max_length=20,
        required=False,
        help_text=_("Dial *#06# to see it. Or give the serial number below."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    serial = forms.CharField(label=_("Serial number"), max_length=64, required=False)
    model = forms.ChoiceField(label=_("Device model"), required=False)
    # No fault is preselected: an empty "Choose…" option, and the field is required.
    fault_category = forms.ChoiceField(
        label=_("What is wrong?"), choices=[("", _("Choose…"))] + list(FaultCategory.choices)
    )
    issue = forms.CharField(label=_("Describe the problem"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = _model_choices()

    def clean_phone(self):
        from servicehub.errors import DomainError
        from servicehub.phones import mobile_normalize

        try:
            mobile_normalize(self.cleaned_data["phone"])
        except DomainError as err:
            raise forms.ValidationError(err.message, code="invalid") from None
        return self.cleaned_data["phone"]

    def clean(self):
        data = super().clean()
        self._clean_device(data)
        return data

    def _clean_device(self, data) -> None:
        """Every device problem at once, in words: no number, a malformed IMEI, a device we do not
        know yet without its model (the service would refuse each of them, one per submit)."""
        from django.core.exceptions import ValidationError

        from warranty.models import validate_imei
        from warranty.selectors import device_find, normalize_imei

        imei, serial = data.get("imei") or "", (data.get("serial") or "").strip()
        if "imei" in self.errors or "serial" in self.errors:
            return
        if not device_id_given(imei, serial):
            self.add_error("imei", DEVICE_ID_REQUIRED)
            return
        if imei:
            try:
                validate_imei(normalize_imei(imei))
            except ValidationError as exc:
                self.add_error("imei", exc.messages[0])
                return
        if (
            not data.get("model")
            and "model" not in self.errors
            and device_find(imei=imei or None, serial=serial or None) is None
        ):
            self.add_error("model", _("We do not know this device yet: choose its model from the list."))

    def person_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "phone": d["phone"],
            "email": d.get("email") or "",
            "imei": d.get("imei") or "",
            "serial": d.get("serial") or "",
            "model_code": d.get("model") or "",
            "issue": d["issue"],
            "fault_category": d["fault_category"],
        }


class BookingForm(ContactDeviceForm):
    start = forms.ChoiceField(label=_("Time"), widget=forms.RadioSelect)
    sign_language = forms.BooleanField(label=_("I need the sign-language video service"), required=False)
    wheelchair = forms.BooleanField(label=_("I need wheelchair access"), required=False)
    elderly_assistance = forms.BooleanField(label=_("I would like assistance for elderly customers"), required=False)

    field_order = ["start"]

    def __init__(self, *args, slot_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start"].choices = list(slot_choices)

    def needs(self) -> dict:
        return {k: True for k in ("sign_language", "wheelchair", "elderly_assistance") if self.cleaned_data.get(k)}


def _tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


def _check_address(form, field: str, value: str) -> None:
    from booking.addresses import address_parse

    if value and address_parse(value) is None:
        form.add_error(field, _("We could not find the province in this address; start with the province and city."))


class MailInForm(ContactDeviceForm):
    pickup_address = forms.CharField(
        label=_("Pickup address"),
        max_length=300,
        help_text=_("Province, city, district, street and number, e.g. 广东省深圳市南山区科技园路1号"),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    pickup_date = forms.DateField(
        label=_("Pickup day"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=_("Tomorrow or up to 7 days ahead."),
    )
    pickup_window = forms.ChoiceField(
        label=_("Pickup time"), choices=TimeWindow.choices, initial=TimeWindow.MORNING, widget=forms.RadioSelect
    )

    field_order = ["pickup_address", "pickup_date", "pickup_window"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pickup_date"].initial = _tomorrow()

    def clean(self):
        data = super().clean()
        _check_address(self, "pickup_address", data.get("pickup_address") or "")
        day = data.get("pickup_date")
        if day is not None and not (_tomorrow() <= day <= _tomorrow() + dt.timedelta(days=6)):
            self.add_error("pickup_date", _("Choose a pickup day between tomorrow and 7 days ahead."))
        return data


ON_SITE_DEVICES = [
    ("smart_screen", _("Smart screen (TV)")),
    ("pc", _("PC or laptop")),
    ("phone", _("Phone, tablet or watch: I cannot travel to a center (age, illness, disability)")),
]


class OnSiteForm(ContactDeviceForm):
    device_kind = forms.ChoiceField(label=_("Which device?"), choices=ON_SITE_DEVICES, widget=forms.RadioSelect)
    address = forms.CharField(
        label=_("Address of the visit"),
        max_length=300,
        help_text=_("Province, city, district, street and number, e.g. 广东省深圳市南山区科技园路1号"),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    center = forms.ChoiceField(
        label=_("Service center"),
        required=False,
        help_text=_("Leave it to us: the nearest center that visits your address."),
    )
    preferred_date = forms.DateField(
        label=_("Preferred date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=_("Tomorrow or up to 30 days ahead."),
    )
    window = forms.ChoiceField(label=_("Preferred time"), choices=TimeWindow.choices, widget=forms.RadioSelect)

    field_order = ["device_kind", "address", "center", "preferred_date", "window"]

    def __init__(self, *args, centers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["center"].choices = [("", _("The nearest center for my address"))] + [
            (c.code, c.name) for c in centers
        ]
        self.fields["preferred_date"].initial = _tomorrow()
        # Phones have an IMEI; smart screens and PCs a serial number (no *#06# on a TV).
        self.fields["imei"].help_text = _("Phones, tablets and watches: dial *#06# or see Settings > About.")
        self.fields["serial"].help_text = _(
            "Smart screens and PCs: on the label on the back or underneath, or in Settings > About."
        )

    def _clean_device(self, data) -> None:
        kind = data.get("device_kind")
        if kind == "phone" and not data.get("imei") and "imei" not in self.errors:
            self.add_error("imei", _("Enter the IMEI of the phone (dial *#06# to see it)."))
            return
        if kind in ("smart_screen", "pc") and not (data.get("serial") or "").strip() and "serial" not in self.errors:
            self.add_error("serial", _("Enter the serial number: it is on the label on the back of the device."))
            return
        super()._clean_device(data)

    def clean(self):
        data = super().clean()
        _check_address(self, "address", data.get("address") or "")
        day = data.get("preferred_date")
        if day is not None and not (_tomorrow() <= day <= _tomorrow() + dt.timedelta(days=29)):
            self.add_error("preferred_date", _("Choose a date between tomorrow and 30 days ahead."))
        return data

    @property
    def cannot_travel(self) -> bool:
        return self.cleaned_data.get("device_kind") == "phone"


class CenterSearchForm(Form):
    q = forms.CharField(
        label=_("Province, city, district or street address"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "street-address",
                "placeholder": _("e.g. 邵阳市, 武冈市 or 深圳市南山区科技园路1号"),
            }
        ),
    )
    # "Use my location" (web/static/web/find.js) sends near=lat,lng; lat/lng are the older pair.
    near = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=100, widget=forms.HiddenInput)

    def clean(self):
        from .find import parse_near

        data = super().clean()
        position = None
        if data.get("near"):
            position = parse_near(data["near"])
            if position is None:
                self.add_error("q", _("Your location could not be read. Type a place instead."))
        elif data.get("lat") is not None and data.get("lng") is not None:
            position = (data["lat"], data["lng"])
        data["position"] = position
        return data


class VerifyForm(Form):
    phone = forms.CharField(label=_("Store phone number"), max_length=32, required=False)
    name = forms.CharField(label=_("Store name"), max_length=100, required=False)
    city = forms.CharField(label=_("City (optional)"), max_length=50, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("phone") and not data.get("name"):
            self.add_error("phone", _("Enter the store's phone number or its name."))
        return data


class WarrantyForm(Form):
    imei = forms.CharField(
        label=_("IMEI"),
        max_length=20,
        help_text=_("Dial *#06# to see it."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


class CheckoutForm(Form):
    imei = forms.CharField(widget=forms.HiddenInput, max_length=20)
    plan = forms.CharField(widget=forms.HiddenInput, max_length=32)
    method = forms.ChoiceField(
        label=_("Pay with"),
        choices=[("wechat_pay", _("WeChat Pay")), ("alipay", _("Alipay"))],
        error_messages={
            "required": _("Choose WeChat Pay or Alipay."),
            "invalid_choice": _("Choose WeChat Pay or Alipay."),
        },
    )


class SurveyForm(Form):
    overall = forms.TypedChoiceField(label=_("Overall"), choices=STAR_CHOICES, coerce=int, widget=forms.RadioSelect)
    staff = forms.TypedChoiceField(
        label=_("Staff friendliness"), choices=STAR_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    speed = forms.TypedChoiceField(label=_("Speed"), choices=STAR_CHOICES, coerce=int, widget=forms.RadioSelect)
    quality = forms.TypedChoiceField(
        label=_("Repair quality"), choices=STAR_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    recommend = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a friend? (optional)"),
        help_text=_("0 = not at all likely, 10 = extremely likely"),
        choices=[(n, str(n)) for n in range(11)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CallbackForm(Form):
    name = forms.CharField(label=_("Your name"), max_length=100)
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    topic = forms.ChoiceField(label=_("Topic"), choices=CallbackTopic.choices)
    preferred_window = forms.ChoiceField(label=_("When should we call?"), choices=TimeWindow.choices)
    note = forms.CharField(
        label=_("Anything we should know (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RescheduleForm(Form):
    start = forms.ChoiceField(label=_("New time"), widget=forms.RadioSelect)

    def __init__(self, *args, slot_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start"].choices = list(slot_choices)


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos in one input; size, count and content are checked by ``centers.photos``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultiplePhotoField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class StoreReportForm(Form):
    name = forms.CharField(label=_("Store name"), max_length=200)
    address = forms.CharField(
        label=_("Address of the store"),
        max_length=300,
        help_text=_("Province, city, district and street, e.g. 上海市黄浦区南京东路 100 号."),
    )
    phone = forms.CharField(
        label=_("Store phone number (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("What happened?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example: the sign uses our logo, they said they were an official center."),
    )
    photos = MultiplePhotoField(
        label=_("Photos (optional)"),
        required=False,
        help_text=_("Up to 3 photos, 5 MB each, of the sign or the shop front. Location data is removed."),
    )
    contact = forms.CharField(
        label=_("Your phone or e-mail (optional)"),
        max_length=100,
        required=False,
        help_text=_("Only if you agree that HQ may contact you about this report."),
    )


def add_domain_error(form: forms.Form, err, *, fallback: str | None = None) -> None:
    """Show a service's DomainError next to its field (or at the top of the form)."""
    field = getattr(err, "field", None)
    aliases = {
        "model_code": "model",
        "fault.category": "fault_category",
        "sold_at": "imei",
        "pickup_from": "pickup_date",
    }
    field = aliases.get(field, field)
    if field not in form.fields:
        field = fallback if fallback in form.fields else None
    form.add_error(field, err.message)
