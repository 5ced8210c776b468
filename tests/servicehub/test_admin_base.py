"""The one scoped admin base (servicehub/admin.py): rows, objects and center choices follow the actor."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from centers.models import StaffMembership
from loaners.admin import LoanerTransferAdmin
from loaners.models import LoanerTransfer
from servicehub.admin import HQ, NOBODY, ROLES, SCOPE, CenterScopedAdmin, has_any_role, has_center_scope
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import LoanerFactory
from tests.factories.users import StaffUserFactory

pytestmark = pytest.mark.django_db


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _staff(center=None, role="front_desk", perms_app=None):
    user = StaffUserFactory()
    if perms_app:
        user.user_permissions.set(Permission.objects.filter(content_type__app_label=perms_app))
    if center is not None or role == "hq":
        StaffMembership.objects.create(user=user, center=center, role=role)
    return user


def _transfer(**kw):
    from django.utils import timezone

    return LoanerTransfer.objects.create(sent_at=timezone.now(), **kw)


@pytest.fixture
def centers():
    return ServiceCenterFactory(code="SC-A"), ServiceCenterFactory(code="SC-B"), ServiceCenterFactory(code="SC-C")


def test_rows_follow_any_of_the_declared_center_fields(centers):
    a, b, c = centers
    to_a = _transfer(loaner=LoanerFactory(home_center=b, current_center=b), from_center=b, to_center=a)
    from_a = _transfer(loaner=LoanerFactory(home_center=a, current_center=a), from_center=a, to_center=c)
    other = _transfer(loaner=LoanerFactory(home_center=b, current_center=b), from_center=b, to_center=c)
    model_admin = LoanerTransferAdmin(LoanerTransfer, admin.site)

    seen = set(model_admin.get_queryset(_request(_staff(a))).values_list("pk", flat=True))
    assert seen == {to_a.pk, from_a.pk}
    hq = set(model_admin.get_queryset(_request(_staff(role="hq"))).values_list("pk", flat=True))
    assert hq == {to_a.pk, from_a.pk, other.pk}


def test_an_object_outside_the_scope_is_refused_whatever_the_django_permissions(centers):
    a, b, c = centers
    mine = _transfer(loaner=LoanerFactory(home_center=a, current_center=a), from_center=a, to_center=c)
    theirs = _transfer(loaner=LoanerFactory(home_center=b, current_center=b), from_center=b, to_center=c)

    class PermissionsAdmin(CenterScopedAdmin):  # Django permissions would allow everything
        center_field = ("from_center", "to_center")

    request = _request(_staff(a, perms_app="loaners"))
    model_admin = PermissionsAdmin(LoanerTransfer, admin.site)
    assert model_admin.has_view_permission(request, mine) is True
    assert model_admin.has_change_permission(request, mine) is True
    assert model_admin.has_view_permission(request, theirs) is False
    assert model_admin.has_change_permission(request, theirs) is False
    assert model_admin.has_delete_permission(request, theirs) is False
    # Control: without an object the model-level permission answers, as Django's does.
    assert model_admin.has_change_permission(request) is True


def test_access_constants_answer_by_scope_and_role(centers):
    a, _b, _c = centers

    class Pages(CenterScopedAdmin):
        center_field = None
        view_access = ROLES
        roles = frozenset({"engineer"})
        add_access = HQ
        change_access = SCOPE
        delete_access = NOBODY

    model_admin = Pages(LoanerTransfer, admin.site)
    desk, engineer, hq, nobody = (_staff(a), _staff(a, "engineer"), _staff(role="hq"), _staff())
    assert [model_admin.has_view_permission(_request(u)) for u in (desk, engineer, hq, nobody)] == [
        False,
        True,
        True,
        False,
    ]
    assert [model_admin.has_add_permission(_request(u)) for u in (desk, hq)] == [False, True]
    assert [model_admin.has_change_permission(_request(u)) for u in (desk, nobody)] == [True, False]
    assert model_admin.has_delete_permission(_request(hq)) is False
    assert has_center_scope(_request(nobody)) is False
    assert has_any_role(_request(engineer), {"engineer"}) is True


def test_center_choices_are_the_actors_centers(centers):
    a, b, _c = centers
    from booking.admin import SlotRuleAdmin
    from booking.models import SlotRule

    model_admin = SlotRuleAdmin(SlotRule, admin.site)
    field = model_admin.formfield_for_foreignkey(SlotRule._meta.get_field("center"), _request(_staff(a)))
    assert list(field.queryset) == [a]
    field = model_admin.formfield_for_foreignkey(SlotRule._meta.get_field("center"), _request(_staff(role="hq")))
    assert set(field.queryset) >= {a, b}


def test_no_admin_module_builds_its_own_actor():
    """One actor per request: every admin-side module resolves it with ``actor_from_request``."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.glob("*/*.py"):
        if path.name in ("admin.py", "desk.py") and "actor_for_user(request" in path.read_text():
            offenders.append(str(path.relative_to(root)))
        if path.name in ("admin.py", "desk.py") and "def _actor(" in path.read_text():
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_scope_through_a_many_valued_path_answers_objects_too(centers):
    """Partners are scoped by the centers they operate (``partner__centers``)."""
    from partners.admin import WebhookEndpointAdmin
    from partners.models import WebhookEndpoint
    from tests.factories.partners import PartnerFactory, WebhookEndpointFactory

    a, b, _c = centers
    ours, theirs = PartnerFactory(), PartnerFactory()
    ours.centers.set([a, b])
    theirs.centers.set([b])
    mine, other = WebhookEndpointFactory(partner=ours), WebhookEndpointFactory(partner=theirs)
    request = _request(_staff(a, perms_app="partners"))
    model_admin = WebhookEndpointAdmin(WebhookEndpoint, admin.site)
    assert list(model_admin.get_queryset(request).values_list("pk", flat=True)) == [mine.pk]
    assert model_admin.has_change_permission(request, mine) is True
    assert model_admin.has_change_permission(request, other) is False
