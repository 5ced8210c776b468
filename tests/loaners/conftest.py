import pytest

from servicehub.actors import Actor
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import LoanerFactory, standard_model

from .amenity_fixtures import desks  # noqa: F401  (the amenity tests' fixture)


@pytest.fixture
def center(db):
    return ServiceCenterFactory(code="SH001", lat=31.2304, lng=121.4737)


@pytest.fixture
def front_desk(center):
    """An actor working at ``center`` only."""
    return Actor(center_ids=frozenset({center.pk}), roles={center.pk: {"front_desk"}})


@pytest.fixture
def pool(center):
    """Two flagships and one standard loaner at ``center``, wiped and available."""
    return {
        "flagship": [LoanerFactory(home_center=center), LoanerFactory(home_center=center)],
        "standard": [LoanerFactory(home_center=center, model=standard_model(), replacement_value="1999.00")],
    }
