"""Forms of the fapiao and daily-close pages: types and shapes only; the rules are in ``accounting.services``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from payments.choices import Method

from .choices import BuyerType


class FapiaoForm(forms.Form):
    buyer_type = forms.ChoiceField(
        label=_("Invoice for"), choices=BuyerType.choices, initial=BuyerType.PERSON, widget=forms.RadioSelect
    )
    title = forms.CharField(
        label=_("Invoice title"),
        max_length=100,
        help_text=_("Your name, or the company's full registered name."),
    )
    tax_number = forms.CharField(
        label=_("Tax number (unified social credit code)"),
        max_length=40,
        required=False,
        help_text=_("18 characters; required for a company."),
    )
    email = forms.EmailField(label=_("E-mail for the fapiao (optional)"), required=False)


class DailyCloseForm(forms.Form):
    """The count-the-cash form; one optional reason per method (required by the service where it differs)."""

    cash_counted = forms.CharField(label=_("Cash counted in the drawer (CNY)"), max_length=16)
    note = forms.CharField(label=_("Note (optional)"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in Method.choices:
            self.fields[f"reason_{value}"] = forms.CharField(
                label=_("Reason for the %(method)s difference") % {"method": label},
                max_length=500,
                required=False,
            )

    def reasons(self) -> dict[str, str]:
        return {value: self.cleaned_data.get(f"reason_{value}", "") for value in Method.values}


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why re-open this day?"), max_length=500)
