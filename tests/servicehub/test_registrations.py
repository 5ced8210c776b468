"""The registrations that keep lower layers from importing higher ones (docs/architecture.md).

servicehub asks centers who a staff user is and partners who a key is; repairs asks loaners whether a
ticket may close. Each hook is wired by the higher app's AppConfig.ready() and fails loudly when missing.
"""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

import centers.selectors
import loaners.selectors
import partners.authentication
from repairs import workflow
from repairs.choices import Action
from servicehub import actors
from servicehub.api import keys


def test_the_apps_wire_their_lookups_at_startup():
    assert actors._staff_roles is centers.selectors.staff_roles
    assert partners.authentication.actor_for_api_key in actors._credential_actors
    assert keys._verifier is partners.authentication.key_verify
    assert loaners.selectors.ticket_close_refusal in workflow._GUARDS[Action.CLOSE]


def test_actor_for_user_refuses_without_a_staff_roles_lookup(monkeypatch):
    monkeypatch.setattr(actors, "_staff_roles", None)
    with pytest.raises(ImproperlyConfigured):
        actors.actor_for_user(SimpleNamespace(is_superuser=False))


def test_actor_for_user_uses_the_registered_roles(monkeypatch):
    monkeypatch.setattr(actors, "_staff_roles", lambda user: {7: {"engineer"}, None: set()})
    actor = actors.actor_for_user(SimpleNamespace(is_superuser=False))
    assert actor.center_ids == frozenset({7})
    assert actor.has_role("engineer", 7) and not actor.has_role("engineer", 8)


def test_a_credential_no_resolver_claims_falls_back_to_the_signed_in_user(monkeypatch):
    monkeypatch.setattr(actors, "_staff_roles", lambda user: {None: {"hq"}})
    monkeypatch.setattr(actors, "_credential_actors", [lambda auth: None])
    user = SimpleNamespace(is_superuser=False, is_authenticated=True)
    actor = actors.actor_from_request(SimpleNamespace(auth=object(), user=user))
    assert actor.user is user and actor.center_ids is None


def test_the_first_resolver_that_claims_the_credential_wins(monkeypatch):
    mine = actors.Actor(center_ids=frozenset({3}))
    monkeypatch.setattr(actors, "_credential_actors", [lambda auth: None, lambda auth: mine, lambda auth: 1 / 0])
    assert actors.actor_from_request(SimpleNamespace(auth="key", user=None)) is mine


def test_anonymous_sees_no_center():
    actor = actors.actor_from_request(SimpleNamespace(user=SimpleNamespace(is_authenticated=False)))
    assert actor.center_ids == frozenset() and actor.user is None


def test_key_verification_needs_the_registered_verifier(monkeypatch):
    monkeypatch.setattr(keys, "_verifier", None)
    assert keys.key_verified_prefix("not-a-key") is None  # malformed: no lookup needed
    with pytest.raises(ImproperlyConfigured):
        keys.key_verified_prefix("sh_abc_secret")
    monkeypatch.setattr(keys, "_verifier", lambda raw: "abc")
    assert keys.key_verified_prefix("sh_abc_secret") == "abc"


def test_key_format():
    assert keys.split_key("sh_abc_s3cr_et") == ("abc", "s3cr_et")
    assert keys.split_key("sh_abc") is None and keys.split_key("xx_abc_def") is None
    assert keys.hash_key("sh_abc_x") == partners.authentication.hash_key("sh_abc_x")


def test_transition_guards(monkeypatch):
    monkeypatch.setattr(workflow, "_GUARDS", {})
    with pytest.raises(ValueError):
        workflow.transition_guard_register("fly", lambda ticket: None)

    def no(ticket):
        return "not today"

    workflow.transition_guard_register(Action.CLOSE, lambda ticket: None)
    workflow.transition_guard_register(Action.CLOSE, no)
    workflow.transition_guard_register(Action.CLOSE, no)  # idempotent
    assert len(workflow._GUARDS[Action.CLOSE]) == 2
    assert workflow.guards_refusal(Action.CLOSE, SimpleNamespace(pk=1)) == "not today"
    assert workflow.guards_refusal(Action.HAND_OVER, SimpleNamespace(pk=1)) is None
