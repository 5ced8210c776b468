"""The import contracts (.importlinter) hold on the tree, and each one would catch the edge it is there for.

The controls add one import to the real graph -- the kind of shortcut issue #18 removed -- and expect exactly
that contract to break: a contract that cannot fail proves nothing.
"""

from pathlib import Path

import pytest

use_cases = pytest.importorskip("importlinter.application.use_cases")
from importlinter.configuration import configure  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
configure()
use_cases._register_built_in_contract_types()  # what lint_imports() does before create_report()

LAYERS = "Apps stand in layers: an app imports only its own layer and the layers below"
CORE = "The servicehub core imports no app"
INTERFACES = "Domain modules never import an interface (web, ops, any app's admin, api, views, urls, desk pages)"
REACTIONS = "Domain apps emit events; they never send an SMS or a webhook themselves"


def broken_contracts(monkeypatch, *extra: tuple[str, str]) -> set[str]:
    options = use_cases.read_user_options(str(ROOT / ".importlinter"))
    real_build = use_cases._build_graph

    def build(*args, **kwargs):
        graph = real_build(*args, **kwargs)
        for importer, imported in extra:
            graph.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
        return graph

    monkeypatch.setattr(use_cases, "_build_graph", build)
    monkeypatch.chdir(ROOT)
    report = use_cases.create_report(options, cache_dir=None)
    assert not report.could_not_run, report.invalid_contract_options
    return {contract.name for contract, check in report.get_contracts_and_checks() if not check.kept}


def test_the_tree_keeps_every_contract(monkeypatch):
    assert broken_contracts(monkeypatch) == set()


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        # a lower domain app reaching up (what the close guard used to do)
        ("repairs.workflow", "loaners.selectors", LAYERS),
        # the plumbing looking up who a key or a user is (what actors and idempotency used to do)
        ("servicehub.api.idempotency", "partners.models", CORE),
        ("servicehub.actors", "centers.models", CORE),
        # a rule leaning on the staff UI or the API
        ("repairs.services", "repairs.admin", INTERFACES),
        ("warranty.selectors", "booking.api.serializers", INTERFACES),
        # a domain app sending a webhook itself instead of emitting an event
        ("loaners.selectors", "partners.webhooks", REACTIONS),
    ],
)
def test_control_each_contract_catches_its_shortcut(monkeypatch, importer, imported, contract):
    assert contract in broken_contracts(monkeypatch, (importer, imported))


def test_control_interfaces_are_exempt_only_from_the_order(monkeypatch):
    # An admin module may import any app; that is what makes it an interface.
    assert broken_contracts(monkeypatch, ("repairs.admin", "booking.services")) == set()
