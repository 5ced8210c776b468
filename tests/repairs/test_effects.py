"""Later apps hook into the one state machine (repairs.workflow): guards with their own error code and
effects that write in the move's transaction and may send the ticket elsewhere (docs/architecture.md)."""

import pytest

from repairs import workflow
from repairs.choices import Action, TicketStatus
from repairs.models import RepairTicket, TicketEvent
from servicehub.errors import DomainError
from tests.factories.repairs import run, walk_in


@pytest.fixture
def hooks(monkeypatch):
    monkeypatch.setattr(workflow, "_GUARDS", {})
    monkeypatch.setattr(workflow, "_EFFECTS", {})
    return workflow


def test_a_coded_guard_refusal_keeps_its_code(hooks, center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    hooks.transition_guard_register(
        Action.CANCEL, lambda ticket: workflow.GuardRefusal("Pay first.", code="payment_required")
    )
    with pytest.raises(DomainError) as exc:
        run(t, ("cancel", people["desk"]))
    assert (exc.value.code, exc.value.status, exc.value.message) == ("payment_required", 409, "Pay first.")
    assert RepairTicket.objects.get(pk=t.pk).status == TicketStatus.RECEIVED
    # Everywhere else it reads as the sentence: the action is not offered.
    from repairs import selectors

    assert "cancel" not in selectors.allowed_actions(ticket=t, actor=people["desk"])


def test_an_effect_runs_in_the_move_and_may_redirect_it(hooks, center, people, old_device):
    seen = []

    def effect(ticket, ctx):
        seen.append((ctx.action, ctx.from_status, ctx.target, ctx.params.get("fault_note")))
        return TicketStatus.CANCELLED if ctx.action == Action.START_DIAGNOSIS else None

    with pytest.raises(ValueError):
        hooks.transition_effect_register("fly", effect)
    hooks.transition_effect_register(Action.START_DIAGNOSIS, effect)
    hooks.transition_effect_register(Action.START_DIAGNOSIS, effect)  # idempotent
    t = walk_in(center, people["desk"], device=old_device)
    t = run(t, ("start_diagnosis", people["eng"], {"fault_note": "x"}))
    assert seen == [(Action.START_DIAGNOSIS, TicketStatus.RECEIVED, TicketStatus.DIAGNOSING, "x")]
    assert t.status == TicketStatus.CANCELLED  # the effect's target won, and the timeline says so
    assert TicketEvent.objects.filter(ticket=t).latest("at").to_status == TicketStatus.CANCELLED


def test_an_effect_that_refuses_rolls_the_move_back(hooks, center, people, old_device):
    def effect(ticket, ctx):
        TicketEvent.objects.create(
            ticket=ticket, action="x", from_status="a", to_status="b", actor_label="x", note="", at=ctx.now
        )
        raise DomainError("no_stock", "Nothing on the shelf.", status=409)

    hooks.transition_effect_register(Action.START_DIAGNOSIS, effect)
    t = walk_in(center, people["desk"], device=old_device)
    events = TicketEvent.objects.filter(ticket=t).count()
    with pytest.raises(DomainError) as exc:
        run(t, ("start_diagnosis", people["eng"]))
    assert exc.value.code == "no_stock"
    assert RepairTicket.objects.get(pk=t.pk).status == TicketStatus.RECEIVED
    assert TicketEvent.objects.filter(ticket=t).count() == events


def test_an_unknown_status_from_an_effect_is_a_bug(hooks, center, people, old_device):
    hooks.transition_effect_register(Action.START_DIAGNOSIS, lambda ticket, ctx: "teleported")
    t = walk_in(center, people["desk"], device=old_device)
    with pytest.raises(ValueError):
        run(t, ("start_diagnosis", people["eng"]))
