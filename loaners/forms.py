"""Counter forms of the admin (checkout, return). They check input shape only; rules live in services."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from servicehub.money import MONEY_MAX
from warranty.choices import Tier

from .choices import DeductionKind, PaymentMethod, ReturnCondition


class CheckoutForm(forms.Form):
    tier = forms.ChoiceField(label=_("Tier"), choices=Tier.choices, widget=forms.RadioSelect)
    payment_method = forms.ChoiceField(
        label=_("Deposit paid by"),
        # No preselected "waived": a deposit is waived only by the rules (a protection-plan holder) or by
        # a manager with a reason (payments.services.charge_waive), never by leaving a select untouched.
        choices=[("", _("— choose how the deposit is paid —"))] + list(PaymentMethod.choices),
        required=False,
    )
    reference = forms.CharField(label=_("Payment reference"), max_length=64, required=False)
    terms_accepted = forms.BooleanField(
        label=_("The customer has read and accepted the loan terms"),
        required=True,
        error_messages={"required": _("The customer must accept the loan terms.")},
    )


class ReturnForm(forms.Form):
    condition = forms.ChoiceField(label=_("Condition on return"), choices=ReturnCondition.choices)


class DeductionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (DeductionKind.DAMAGE.value, DeductionKind.DAMAGE.label),
            (DeductionKind.MISSING_ACCESSORY.value, DeductionKind.MISSING_ACCESSORY.label),
        ],
        required=False,
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    amount = forms.DecimalField(label=_("Amount"), max_digits=10, decimal_places=2, required=False)

    def clean(self):
        data = super().clean()
        reason, amount = (data.get("reason") or "").strip(), data.get("amount")
        if amount is None and not reason:
            return data  # an empty row
        if not reason:
            self.add_error("reason", _("A deduction needs a reason."))
        if "amount" not in self.errors and (amount is None or amount <= Decimal("0")):
            self.add_error("amount", _("A deduction must be a positive amount."))
        return data


class BaseDeductionFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        total = sum((form.cleaned_data.get("amount") or Decimal("0") for form in self.forms), Decimal("0"))
        if total > MONEY_MAX:
            raise forms.ValidationError(
                _("These deductions add up to %(total)s; the most one return can deduct is %(max)s.")
                % {"total": total, "max": MONEY_MAX},
                code="total_out_of_range",
            )


DeductionFormSet = forms.formset_factory(DeductionForm, formset=BaseDeductionFormSet, extra=3, max_num=20)


def deductions_from(formset) -> list[dict]:
    """The filled rows of a valid formset as the service's ``deductions`` list."""
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if data.get("amount") is None and not (data.get("reason") or "").strip():
            continue
        rows.append({"kind": data.get("kind") or None, "reason": data["reason"].strip(), "amount": data["amount"]})
    return rows
