"""Fixtures for the payments tests: the repairs fixtures plus a repaired ticket waiting for its money."""

import pytest

from tests.factories.repairs import run, walk_in
from tests.repairs import conftest as _repairs

# The repairs fixtures, shared (a center with staff, a phone model with its catalog, English messages).
_english = _repairs._english
center = _repairs.center
people = _repairs.people
model = _repairs.model
ops = _repairs.ops
old_device = _repairs.old_device
customer = _repairs.customer

SCREEN = {"lines": [{"repair": "screen"}]}


def repaired(center, people, device, *, until="qc_pass"):
    """A walk-in whose quote (one screen) was approved and repaired: ``ready`` with the total due."""
    t = walk_in(center, people["desk"], device=device)
    steps = [
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], SCREEN),
        ("approve", people["desk"]),
        ("start_repair", people["eng"]),
        ("finish", people["eng"]),
        ("qc_pass", people["eng2"]),
    ]
    names = [s[0] for s in steps]
    return run(t, *steps[: names.index(until) + 1])


@pytest.fixture
def ready(center, people, ops, old_device):
    return repaired(center, people, old_device)
