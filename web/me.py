"""“My service” (/me/): the customer's own pages after an SMS code.

Sign in with phone + 6-digit code (``repairs.verification``): a short signed session (30 min)
holding the verified customer id -- not a Django user, not the staff session. Signed in, the
customer sees every ticket of their phone without service numbers or digits: devices with
warranty and plans, repairs open and past (each opens its tracking page), appointments (change
and cancel through the booking services), loans and deposits, surveys; and changes the contact
e-mail, language and consent (the only self-service that changes the customer record).
"""

from __future__ import annotations

from django import forms
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from repairs import services as repair_services
from repairs import verification
from repairs.choices import TERMINAL_STATUSES, Language, TicketStatus
from repairs.models import Customer, RepairTicket
from repairs.tracking import PROMISE_SHOWN
from servicehub.api.throttling import LookupThrottle
from servicehub.errors import DomainError
from servicehub.masking import mask_phone

# A repair is "past" once the device is back with the customer (or it was cancelled).
PAST_STATUSES = (*TERMINAL_STATUSES, TicketStatus.DELIVERED)


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class CodeForm(forms.Form):
    phone = forms.CharField(max_length=32, widget=forms.HiddenInput)
    code = forms.CharField(
        label=_("Code from the text message"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]{6}", "autocomplete": "one-time-code"}),
    )


class ContactForm(forms.Form):
    email = forms.EmailField(label=_("E-mail for notifications"), required=False)
    language = forms.ChoiceField(label=_("Language of our messages"), choices=Language.choices)
    contact_consent = forms.BooleanField(label=_("Send me messages about my repairs"), required=False)


def _address(request) -> str:
    return LookupThrottle().get_ident(request)


def _sign_in_page(request, *, form, step, status=200, message=None):
    return render(request, "web/me_sign_in.html", {"form": form, "step": step, "message": message}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def me(request):
    customer_id = verification.me_customer_id(request)
    if customer_id is None:
        return _sign_in_page(request, form=PhoneForm(), step="phone")
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:  # pragma: no cover - customers are never deleted
        return _sign_in_page(request, form=PhoneForm(), step="phone")
    contact_form = ContactForm(
        initial={
            "email": customer.email,
            "language": customer.language,
            "contact_consent": customer.contact_consent,
        }
    )
    message = None
    status = 200
    if request.method == "POST":
        contact_form = ContactForm(request.POST)
        if contact_form.is_valid():
            try:
                customer = repair_services.customer_contact_update(
                    customer_id=customer.pk, verified_customer_id=customer_id, **contact_form.cleaned_data
                )
            except DomainError as err:
                contact_form.add_error(err.field if err.field in contact_form.fields else None, err.message)
                status = 400
            else:
                message = _("Saved. Our messages now go to these contact details.")
        else:
            status = 400
    return render(
        request,
        "web/me_home.html",
        {
            "customer": customer,
            "phone": mask_phone(customer.phone),
            "contact_form": contact_form,
            "message": message,
            "promise_shown": PROMISE_SHOWN,
            **customer_overview(customer=customer),
        },
        status=status,
    )


@never_cache
@require_POST
def me_sign_in(request):
    """Step 1 (``phone``): send a code. Step 2 (``phone`` + ``code``): check it and sign in."""
    if "code" in request.POST:
        form = CodeForm(request.POST)
        if not form.is_valid():
            return _sign_in_page(request, form=form, step="code", status=400)
        try:
            e164 = verification.verification_code_check(
                phone=form.cleaned_data["phone"], code=form.cleaned_data["code"]
            )
        except DomainError as err:
            form.add_error("code", err.message)
            return _sign_in_page(request, form=form, step="code", status=400)
        customer = Customer.objects.filter(phone=e164).only("pk").first()
        if customer is None:
            form = PhoneForm(initial={"phone": form.cleaned_data["phone"]})
            return _sign_in_page(
                request,
                form=form,
                step="phone",
                status=404,
                message=_("We have no repairs or bookings for this phone number yet."),
            )
        response = redirect("web_me")
        verification.me_session_start(response=response, customer_id=customer.pk)
        return response
    form = PhoneForm(request.POST)
    if not form.is_valid():
        return _sign_in_page(request, form=form, step="phone", status=400)
    try:
        verification.verification_code_send(
            phone=form.cleaned_data["phone"], address=_address(request), language=get_language()
        )
    except DomainError as err:
        form.add_error("phone", err.message)
        return _sign_in_page(request, form=form, step="phone", status=err.status)
    code_form = CodeForm(initial={"phone": form.cleaned_data["phone"]})
    return _sign_in_page(
        request,
        form=code_form,
        step="code",
        message=_("We sent a 6-digit code to %(phone)s. It is valid for 5 minutes.")
        % {"phone": form.cleaned_data["phone"]},
    )


@require_POST
def me_logout(request):
    response = redirect("web_me")
    verification.me_session_end(request=request, response=response)
    return response


# --- what the signed-in customer sees ------------------------------------------------------


def customer_overview(*, customer) -> dict:
    """Everything of one customer for /me/, in a fixed number of queries (whatever the counts)."""
    from django.db.models import prefetch_related_objects

    from booking.models import Appointment, Survey
    from booking.selectors import appointment_can_change
    from loaners.models import Loan
    from warranty.models import PlanPurchase, StatutoryPolicy
    from warranty.selectors import device_coverage

    tickets = list(
        RepairTicket.objects.filter(customer=customer)
        .select_related("center", "device__model")
        .order_by("-created_at", "-pk")
    )
    devices = {}
    for t in tickets:
        devices.setdefault(t.device_id, t.device)
    device_list = list(devices.values())
    prefetch_related_objects(
        device_list, Prefetch("plan_purchases", queryset=PlanPurchase.objects.select_related("product"))
    )
    categories = {d.model.category for d in device_list}
    policies = {p.category: p for p in StatutoryPolicy.objects.filter(category__in=categories)} if categories else {}
    now = timezone.now()
    device_rows = []
    for d in device_list:
        d._statutory_policy = policies.get(d.model.category) or StatutoryPolicy(category=d.model.category)
        coverage = device_coverage(device=d, at=now)
        plans = list(d.plan_purchases.all())
        device_rows.append(
            {"device": d, "coverage": coverage, "plans": plans, "imei_tail": (d.imei or d.serial or "")[-4:]}
        )

    appointments = list(
        Appointment.objects.filter(customer=customer).select_related("center", "ticket").order_by("-start", "-pk")
    )
    for a in appointments:
        a.can_change = appointment_can_change(appointment=a, now=now)
    loans = list(
        Loan.objects.filter(customer=customer)
        .select_related("loaner__model", "center", "ticket")
        .order_by("-out_at", "-pk")
    )
    surveys = {s.ticket_id: s for s in Survey.objects.filter(ticket__customer=customer)}
    from booking.services import SURVEY_OPEN_STATUSES

    survey_rows = [{"ticket": t, "survey": surveys.get(t.pk)} for t in tickets if t.status in SURVEY_OPEN_STATUSES]
    from payments.pay_links import pay_path
    from payments.selectors import tickets_money

    open_tickets = [t for t in tickets if t.status not in PAST_STATUSES]
    balances = tickets_money(t.pk for t in open_tickets)  # one query for all of them
    for t in open_tickets:
        t.amount_due = balances[t.pk].amount_due
        t.pay_link = pay_path(t.pk) if t.amount_due > 0 else None
    return {
        "devices": device_rows,
        "open_tickets": open_tickets,
        "past_tickets": [t for t in tickets if t.status in PAST_STATUSES],
        "appointments": appointments,
        "loans": loans,
        "surveys": survey_rows,
    }
