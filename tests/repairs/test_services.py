"""The ticket lifecycle through ``ticket_transition``: happy paths, refusals, roles, atomicity."""

import datetime as dt

import pytest
from django.utils import timezone

from centers.choices import CenterKind
from repairs import events, selectors, services
from repairs.choices import Action, TicketStatus
from repairs.models import Quote, RepairTicket, TicketEvent
from repairs.workflow import MOVES, CustomerActor
from servicehub.actors import SYSTEM, actor_for_user
from servicehub.errors import DomainError
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import run, staff, walk_in
from tests.factories.warranty import DeviceFactory

pytestmark = pytest.mark.django_db

S = TicketStatus
SCREEN = {"lines": [{"repair": "screen"}]}


def actions(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket).order_by("at", "pk").values_list("action", "to_status"))


def test_walk_in_happy_path(center, people, ops, old_device):
    # given a walk-in checked in at the counter
    t = walk_in(center, people["desk"], device=old_device, accessories=["case"], repair_mode_enabled=True)
    assert t.status == S.RECEIVED
    assert t.channel == "walk_in"
    assert t.accessories == ["case"]
    assert t.repair_mode_enabled is True
    # when it goes through the whole lifecycle
    t = run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], SCREEN),
        ("approve", people["desk"]),
        ("start_repair", people["eng"]),
        ("finish", people["eng"]),
        ("qc_pass", people["eng2"]),
        ("pay", people["desk"]),
        ("hand_over", people["desk"]),
        ("close", people["desk"]),
    )
    # then every move is on the timeline, in order, with stage timestamps set
    assert t.status == S.CLOSED
    assert actions(t) == [
        ("book", "booked"),
        ("check_in", "received"),
        ("start_diagnosis", "diagnosing"),
        ("send_quote", "awaiting_approval"),
        ("approve", "repairing"),
        ("start_repair", "repairing"),
        ("finish", "quality_check"),
        ("qc_pass", "ready"),
        ("hand_over", "delivered"),
        ("close", "closed"),
    ]
    assert t.engineer == people["eng"].user
    for f in (
        "received_at",
        "diagnosis_started_at",
        "quoted_at",
        "approved_at",
        "repair_started_at",
        "repaired_at",
        "ready_at",
        "delivered_at",
        "closed_at",
    ):
        assert getattr(t, f) is not None, f
    assert t.stage_due_at is None  # closed: no SLA


def test_appointment_channel(center, people, ops, old_device, customer):
    t = services.ticket_book(center=center, customer=customer, device=old_device, fault_category="battery")
    t = run(
        t,
        ("check_in", people["desk"], {"accessories": ["charger"], "data_backup_consent": True}),
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], {"lines": [{"repair": "battery"}]}),
        ("approve", people["desk"]),
        ("start_repair", people["eng"]),
        ("await_parts", people["eng"]),
        ("parts_arrived", people["desk"]),
        ("finish", people["eng"]),
        ("qc_fail", people["eng2"], {"note": "screen flickers"}),
        ("finish", people["eng"]),
        ("qc_pass", people["manager"]),
        ("pay", people["desk"]),
        ("hand_over", people["desk"]),
    )
    assert t.status == S.DELIVERED
    assert t.data_backup_consent is True
    assert [a for a, _s in actions(t)][-6:] == ["parts_arrived", "finish", "qc_fail", "finish", "qc_pass", "hand_over"]


def test_mail_in_channel_ships_back(people, ops, old_device, customer):
    hub = ServiceCenterFactory(kind=CenterKind.MAIL_IN_HUB)
    eng, eng2 = (actor_for_user(staff(hub, "engineer", certified=True)) for _i in range(2))
    t = services.ticket_book(
        center=hub, customer=customer, device=old_device, fault_category="screen", channel="mail_in"
    )
    t = run(
        t,
        ("check_in", SYSTEM),  # the courier's delivery event
        ("start_diagnosis", eng),
        ("send_quote", eng, SCREEN),
        ("approve", CustomerActor(ticket_id=t.pk)),
        ("start_repair", eng),
        ("finish", eng),
        ("qc_pass", eng2),
        ("pay", SYSTEM),  # the customer pays before the parcel leaves (a QR on the tracking page)
        ("ship_back", SYSTEM),
        ("deliver", SYSTEM),
        ("close", SYSTEM),
    )
    assert t.status == S.CLOSED
    assert [s for _a, s in actions(t)][-4:] == ["ready", "returning", "delivered", "closed"]
    assert TicketEvent.objects.get(ticket=t, action="approve").actor_label == "customer"


def test_collection_point_forwards_to_hub(people, ops, old_device):
    hub = ServiceCenterFactory()
    cp = ServiceCenterFactory(kind=CenterKind.COLLECTION_POINT, hub=hub)
    cp_desk = actor_for_user(staff(cp, "front_desk"))
    hub_desk = actor_for_user(staff(hub, "front_desk"))
    hub_eng = actor_for_user(staff(hub, "engineer", certified=True))
    hub_eng2 = actor_for_user(staff(hub, "engineer", certified=True))
    t = walk_in(cp, cp_desk, device=old_device)
    assert (t.center, t.origin_center, t.channel, t.status) == (hub, cp, "collection_point", S.RECEIVED)
    # the hub cannot diagnose a device still at the collection point
    assert "start_diagnosis" not in selectors.allowed_actions(ticket=t, actor=hub_eng)
    with pytest.raises(DomainError) as exc:
        run(t, ("start_diagnosis", hub_eng))
    assert exc.value.code == "invalid_transition"
    t = run(t, ("forward", cp_desk))
    assert t.status == S.IN_TRANSIT
    t = run(
        t,
        ("receive_at_hub", hub_desk),
        ("start_diagnosis", hub_eng),
        ("send_quote", hub_eng, SCREEN),
        ("approve", hub_desk),
        ("start_repair", hub_eng),
        ("finish", hub_eng),
        ("qc_pass", hub_eng2),
        ("ship_back", hub_desk),
        ("pay", cp_desk),  # paid at the collection point, when the customer picks it up
        ("hand_over", cp_desk),  # the customer picks it up at the collection point
    )
    assert t.status == S.DELIVERED
    assert [a for a, _s in actions(t)][:5] == ["book", "check_in", "forward", "receive_at_hub", "start_diagnosis"]
    assert t.hub_received_at is not None and t.forwarded_at is not None


def test_on_site_channel(center, people, ops, old_device, customer):
    t = services.ticket_book(
        center=center, customer=customer, device=old_device, fault_category="screen", channel="on_site"
    )
    t = run(
        t,
        ("check_in", people["desk"]),
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], SCREEN),
        ("approve", people["desk"]),
        ("start_repair", people["eng"]),
        ("finish", people["eng"]),
        ("qc_pass", people["eng2"]),
        ("pay", people["desk"]),
        ("hand_over", people["desk"]),
    )
    assert t.status == S.DELIVERED
    # an on-site repair is never "shipped back"
    assert "ship_back" not in selectors.allowed_actions(ticket=t, actor=SYSTEM)


def test_decline_returns_device_unrepaired(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    t = run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], SCREEN), ("decline", people["desk"]))
    assert t.status == S.RETURNING
    assert Quote.objects.get(ticket=t).status == "declined"
    t = run(t, ("pay", people["desk"]), ("hand_over", people["desk"]))
    assert t.status == S.DELIVERED
    assert t.engineer is None


def test_no_show_and_cancel_from_booked(center, people, old_device, customer):
    a = services.ticket_book(center=center, customer=customer, device=old_device, fault_category="screen")
    b = services.ticket_book(center=center, customer=customer, device=old_device, fault_category="screen")
    a = run(a, ("no_show", SYSTEM))
    b = run(b, ("cancel", CustomerActor(ticket_id=b.pk)))
    assert (a.status, b.status) == (S.CANCELLED, S.CANCELLED)
    assert a.cancelled_at is not None


# --- refusals -----------------------------------------------------------------------


def _ticket_in(status, center, device):
    t = services.ticket_book(center=center, customer=None or _customer(), device=device, fault_category="screen")
    RepairTicket.objects.filter(pk=t.pk).update(status=status)
    t.refresh_from_db()
    return t


def _customer():
    from tests.factories.repairs import CustomerFactory

    return CustomerFactory()


def test_every_move_not_allowed_from_a_status_is_refused(center, people, ops, old_device):
    """All (status, action) pairs outside the lifecycle: 409 with allowed_actions, nothing written."""
    actor = people["manager"]
    checked = 0
    for status in S.values:
        # given a ticket in ``status``
        t = _ticket_in(status, center, old_device)
        events_before = TicketEvent.objects.filter(ticket=t).count()
        for action, move in MOVES.items():
            if status in move.sources:
                continue
            # when a move that does not start from this status is attempted
            with pytest.raises(DomainError) as exc:
                services.ticket_transition(
                    ticket_id=t.pk, action=action, actor=actor, **(SCREEN if action == "send_quote" else {})
                )
            # then it is refused with the actions that are allowed, and nothing changed
            assert exc.value.code == "invalid_transition", (status, action)
            assert exc.value.status == 409
            assert exc.value.extra["allowed_actions"] == selectors.allowed_actions(ticket=t, actor=actor)
            assert action not in exc.value.extra["allowed_actions"]
            checked += 1
        t.refresh_from_db()
        assert t.status == status
        assert TicketEvent.objects.filter(ticket=t).count() == events_before
    assert checked == sum(1 for s in S.values for m in MOVES.values() if s not in m.sources)
    assert checked > 180


def test_unknown_action_is_refused(center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    with pytest.raises(DomainError) as exc:
        run(t, ("teleport", people["manager"]))
    assert exc.value.code == "invalid_transition"
    assert exc.value.extra["allowed_actions"] == ["start_diagnosis", "cancel"]


def test_uncertified_engineer_cannot_start_repair(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    t = run(
        t, ("start_diagnosis", people["rookie"]), ("send_quote", people["rookie"], SCREEN), ("approve", people["desk"])
    )
    assert "start_repair" not in selectors.allowed_actions(ticket=t, actor=people["rookie"])
    with pytest.raises(DomainError) as exc:
        run(t, ("start_repair", people["rookie"]))
    assert exc.value.code == "invalid_transition"
    assert "certification" in exc.value.message
    t.refresh_from_db()
    assert t.engineer is None


def test_expired_certification_does_not_count(center, people, ops, old_device):
    from centers.models import Certification

    Certification.objects.filter(user=people["eng"].user).update(
        issued_on=dt.date(2020, 1, 1), expires_on=timezone.localdate() - dt.timedelta(days=1)
    )
    t = walk_in(center, people["desk"], device=old_device)
    t = run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], SCREEN), ("approve", people["desk"]))
    with pytest.raises(DomainError):
        run(t, ("start_repair", people["eng"]))


def test_qc_by_the_repairing_engineer_is_refused(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    t = run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], SCREEN),
        ("approve", people["desk"]),
        ("start_repair", people["eng"]),
        ("finish", people["eng"]),
    )
    for action in ("qc_pass", "qc_fail"):
        with pytest.raises(DomainError) as exc:
            run(t, (action, people["eng"]))
        assert exc.value.code == "invalid_transition"
        assert "someone other" in exc.value.message
    assert selectors.allowed_actions(ticket=t, actor=people["eng"]) == []
    assert selectors.allowed_actions(ticket=t, actor=people["eng2"]) == ["qc_pass", "qc_fail"]


def test_only_the_repairing_engineer_finishes(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    t = run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], SCREEN),
        ("approve", people["desk"]),
        ("start_repair", people["eng"]),
    )
    with pytest.raises(DomainError):
        run(t, ("finish", people["eng2"]))
    with pytest.raises(DomainError):  # and nobody else takes it over by "starting" it again
        run(t, ("start_repair", people["eng2"]))


def test_front_desk_cannot_diagnose_and_engineer_cannot_hand_over(center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    assert selectors.allowed_actions(ticket=t, actor=people["desk"]) == ["cancel"]
    with pytest.raises(DomainError) as exc:
        run(t, ("start_diagnosis", people["desk"]))
    assert exc.value.extra["allowed_actions"] == ["cancel"]


def test_staff_of_another_center_get_not_found(center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    other = actor_for_user(staff(ServiceCenterFactory(), "manager"))
    with pytest.raises(DomainError) as exc:
        run(t, ("cancel", other))
    assert exc.value.code == "not_found"
    assert exc.value.status == 404


def test_system_actor_cannot_repair(center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    assert selectors.allowed_actions(ticket=t, actor=SYSTEM) == ["cancel"]


def test_customer_actor_only_for_own_ticket_and_quote_decisions(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    other = walk_in(center, people["desk"], device=DeviceFactory(model=old_device.model), phone="13900001111")
    t = run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], SCREEN))
    assert selectors.allowed_actions(ticket=t, actor=CustomerActor(ticket_id=t.pk)) == ["approve", "decline"]
    with pytest.raises(DomainError) as exc:
        run(t, ("approve", CustomerActor(ticket_id=other.pk)))
    assert exc.value.code == "not_found"


def test_close_refused_while_a_loaner_is_out(center, people, ops, old_device, monkeypatch):
    import loaners.selectors

    t = walk_in(center, people["desk"], device=old_device)
    t = run(t, ("cancel", people["desk"]))
    t2 = walk_in(center, people["desk"], device=old_device)
    t2 = run(
        t2,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], SCREEN),
        ("approve", people["desk"]),
        ("start_repair", people["eng"]),
        ("finish", people["eng"]),
        ("qc_pass", people["eng2"]),
        ("pay", people["desk"]),
        ("hand_over", people["desk"]),
    )
    monkeypatch.setattr(loaners.selectors, "ticket_has_open_loan", lambda *, ticket_id: ticket_id == t2.pk)
    with pytest.raises(DomainError) as exc:
        run(t2, ("close", people["desk"]))
    assert exc.value.code == "invalid_transition"
    assert "loaner" in exc.value.message
    assert "close" not in exc.value.extra["allowed_actions"]
    monkeypatch.setattr(loaners.selectors, "ticket_has_open_loan", lambda *, ticket_id: False)
    assert run(t2, ("close", people["desk"])).status == S.CLOSED


# --- atomicity ------------------------------------------------------------------------


def test_failure_inside_a_transition_leaves_ticket_and_timeline_unchanged(center, people, ops, old_device, monkeypatch):
    t = walk_in(center, people["desk"], device=old_device)
    before = (t.status, t.stage_due_at, t.diagnosis_started_at)
    n_events = TicketEvent.objects.filter(ticket=t).count()

    def boom(*, ticket, event):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(events, "ticket_changed", boom)
    with pytest.raises(RuntimeError):
        run(t, ("start_diagnosis", people["eng"]))
    t.refresh_from_db()
    assert (t.status, t.stage_due_at, t.diagnosis_started_at) == before
    assert TicketEvent.objects.filter(ticket=t).count() == n_events


def test_failed_quote_leaves_no_quote_behind(center, people, ops, old_device, monkeypatch):
    t = walk_in(center, people["desk"], device=old_device)
    t = run(t, ("start_diagnosis", people["eng"]))
    monkeypatch.setattr(events, "ticket_changed", lambda **kw: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        run(t, ("send_quote", people["eng"], SCREEN))
    assert Quote.objects.filter(ticket=t).count() == 0
    t.refresh_from_db()
    assert t.status == S.DIAGNOSING


def test_walk_in_with_bad_imei_creates_nothing(center, people, model):
    from repairs.models import Customer

    with pytest.raises(DomainError) as exc:
        services.ticket_check_in(
            actor=people["desk"],
            center=center,
            customer={"name": "李雷", "phone": "13912345678"},
            device={"imei": "123456789012345", "model": model.code},
            fault_category="screen",
        )
    assert exc.value.field == "device.imei"
    assert Customer.objects.count() == 0
    assert RepairTicket.objects.count() == 0


def test_walk_in_with_bad_phone_names_the_field(center, people, model):
    with pytest.raises(DomainError) as exc:
        services.ticket_check_in(
            actor=people["desk"],
            center=center,
            customer={"name": "李雷", "phone": "12"},
            device={"imei": "490154203237518", "model": model.code},
            fault_category="screen",
        )
    assert exc.value.field == "customer.phone"
    assert RepairTicket.objects.count() == 0


def test_walk_in_by_an_engineer_is_refused_and_rolled_back(center, people, model):
    with pytest.raises(DomainError) as exc:
        services.ticket_check_in(
            actor=people["eng"],
            center=center,
            customer={"name": "李雷", "phone": "13912345678"},
            device={"imei": "490154203237518", "model": model.code},
            fault_category="screen",
        )
    assert exc.value.code == "invalid_transition"
    assert RepairTicket.objects.count() == 0


# --- SLA ---------------------------------------------------------------------------------


def test_stage_sla_row_overrides_default(center, people, old_device):
    from repairs.models import StageSLA

    StageSLA.objects.update_or_create(status="diagnosing", defaults={"target_minutes": 15})
    t = walk_in(center, people["desk"], device=old_device)
    t = run(t, ("start_diagnosis", people["eng"]))
    assert t.stage_due_at - t.stage_started_at == dt.timedelta(minutes=15)
    StageSLA.objects.filter(status="diagnosing").update(active=False)
    t2 = run(walk_in(center, people["desk"], device=old_device), ("start_diagnosis", people["eng"]))
    assert t2.stage_due_at is None


def test_all_actions_are_in_the_table():
    assert set(MOVES) == set(Action.values)
