"""servicehub.prepared: a queryset compiled once returns what the queryset returns (issue #17)."""

import pytest
from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from repairs.models import RepairTicket, TicketEvent
from servicehub.prepared import PreparedQuery
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import customer, ticket

pytestmark = pytest.mark.django_db

RELATED = ("center", "origin_center", "customer", "device__model")


def _events():
    return {
        "n_events": Subquery(
            TicketEvent.objects.filter(ticket_id=OuterRef("pk"))
            .values("ticket_id")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        )
    }


def _lookup(calls):
    def build(service_no):
        calls.append(service_no)
        return RepairTicket.objects.select_related(*RELATED).annotate(**_events()).filter(service_no=service_no)[:1]

    return PreparedQuery(build, model=RepairTicket)


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_it_returns_the_querysets_instances_with_their_related_rows_and_annotations(django_assert_num_queries):
    t = ticket(center=ServiceCenterFactory(), status="repairing")
    t.origin_center = ServiceCenterFactory()
    t.needs = {"sign_language": True}
    t.save()
    TicketEvent.objects.create(
        ticket=t, action="check_in", from_status="booked", to_status="received", at=timezone.now()
    )
    TicketEvent.objects.create(
        ticket=t, action="start_diagnosis", from_status="received", to_status="diagnosing", at=timezone.now()
    )
    expected = RepairTicket.objects.select_related(*RELATED).annotate(**_events()).get(pk=t.pk)
    query = _lookup([])

    with django_assert_num_queries(1):
        [got] = query.run(service_no=t.service_no)
        # related rows came with it: no query for them
        related = (got.center, got.origin_center, got.customer, got.device, got.device.model)

    assert _fields(got) == _fields(expected)
    assert got.needs == {"sign_language": True}  # the JSON converter ran
    assert got.created_at.tzinfo is not None
    assert got.n_events == 2
    assert [_fields(r) for r in related] == [
        _fields(r)
        for r in (expected.center, expected.origin_center, expected.customer, expected.device, expected.device.model)
    ]
    assert got._state.adding is False and got._state.db == "default"


def test_a_null_relation_is_none_and_no_row_is_an_empty_list():
    t = ticket()
    assert t.origin_center_id is None
    query = _lookup([])
    [got] = query.run(service_no=t.service_no)
    assert got.origin_center is None
    assert query.run(service_no="NOSUCHNO00") == []


def test_it_is_compiled_once_and_bound_to_each_new_value():
    calls = []
    query = _lookup(calls)
    a, b = ticket(customer_obj=customer()), ticket(customer_obj=customer())
    assert [x.pk for x in query.run(service_no=a.service_no)] == [a.pk]
    assert [x.pk for x in query.run(service_no=b.service_no)] == [b.pk]
    assert [x.pk for x in query.run(service_no=a.service_no)] == [a.pk]
    # built twice when prepared (the second build checks that only the sentinels' places change), never again
    assert len(calls) == 2 and all(c.startswith("\x1fprepared:service_no:") for c in calls)


def test_an_integer_keyword_binds_to_an_integer_column():
    a, b = ticket(customer_obj=customer()), ticket(customer_obj=customer())
    for t in (a, b):
        TicketEvent.objects.create(
            ticket=t, action="check_in", from_status="booked", to_status="received", at=timezone.now()
        )
    events = PreparedQuery(
        lambda ticket_id: TicketEvent.objects.filter(ticket_id=ticket_id).order_by("at", "pk"),
        model=TicketEvent,
        ints=frozenset({"ticket_id"}),
    )
    assert [_fields(e) for e in events.run(ticket_id=a.pk)] == [
        _fields(e) for e in TicketEvent.objects.filter(ticket_id=a.pk).order_by("at", "pk")
    ]
    assert {e.ticket_id for e in events.run(ticket_id=b.pk)} == {b.pk}
    # without ``ints`` the string sentinel cannot pass the integer field: refused when prepared, not mis-bound
    untyped = PreparedQuery(lambda ticket_id: TicketEvent.objects.filter(ticket_id=ticket_id), model=TicketEvent)
    with pytest.raises(ValueError):
        untyped.run(ticket_id=a.pk)


def test_the_tracking_quote_and_timeline_are_the_querysets_answers():
    from decimal import Decimal

    from repairs import selectors
    from repairs.models import Quote, QuoteLine

    t = ticket(customer_obj=customer(), status="awaiting_approval")
    TicketEvent.objects.create(
        ticket=t, action="check_in", from_status="booked", to_status="received", at=timezone.now()
    )
    old = Quote.objects.create(ticket=t, version=1, status="declined", total=Decimal("10.00"))
    from tests.factories.repairs import RepairOperationFactory

    op = RepairOperationFactory(device_model=t.device.model)
    money = {"list_part_price": Decimal("0"), "list_labor": Decimal("0"), "part_price": Decimal("0"), "operation": op}
    QuoteLine.objects.create(
        quote=old, description="old", labor=Decimal("10.00"), amount=Decimal("10.00"), position=0, **money
    )
    new = Quote.objects.create(ticket=t, version=2, status="pending", total=Decimal("30.00"))
    for i, amount in enumerate(("20.00", "10.00")):
        QuoteLine.objects.create(
            quote=new, description=f"line {i}", labor=Decimal(amount), amount=Decimal(amount), position=i, **money
        )
    Quote.objects.create(ticket=t, version=3, status="superseded", total=Decimal("1.00"))  # not a shown status

    got = selectors.ticket_current_quote(ticket=t)
    assert got.pk == new.pk and [_fields(x) for x in got.current_lines] == [
        _fields(x) for x in QuoteLine.objects.filter(quote=new).order_by("position")
    ]
    assert [_fields(e) for e in selectors.ticket_timeline(ticket=t)] == [
        _fields(e) for e in TicketEvent.objects.filter(ticket=t).order_by("at", "pk")
    ]
    other = ticket(customer_obj=customer())
    assert selectors.ticket_current_quote(ticket=other) is None and selectors.ticket_timeline(ticket=other) == []


def test_a_value_used_twice_is_bound_at_both_places():
    a = ticket(customer_obj=customer())
    b = ticket(customer_obj=customer())
    RepairTicket.objects.filter(pk=b.pk).update(fault_description=a.service_no)
    twice = PreparedQuery(
        lambda v: RepairTicket.objects.filter(Q(service_no=v) | Q(fault_description=v)).order_by("pk"),
        model=RepairTicket,
    )
    assert [t.pk for t in twice.run(v=a.service_no)] == [a.pk, b.pk]
    assert [t.pk for t in twice.run(v=b.service_no)] == [b.pk]


def test_a_value_derived_from_a_keyword_or_folded_into_the_sql_is_refused_when_prepared():
    unused = PreparedQuery(lambda v: RepairTicket.objects.all(), model=RepairTicket)
    with pytest.raises(ValueError, match="must be a parameter"):
        unused.run(v="X")
    # used as given once and derived once: binding the first would leave the derived one at its build value
    derived = PreparedQuery(
        lambda v: RepairTicket.objects.filter(Q(service_no=v) | Q(fault_description=v + "!")), model=RepairTicket
    )
    with pytest.raises(ValueError, match="derived"):
        derived.run(v="X")
    from centers.models import ServiceCenter

    box = PreparedQuery(
        lambda lat: ServiceCenter.objects.filter(lat__gte=lat, lat__lte=lat + 1.0),
        model=ServiceCenter,
        floats=frozenset({"lat"}),
    )
    with pytest.raises(ValueError, match="derived"):
        box.run(lat=31.0)


def test_a_float_keyword_binds_to_a_float_column():
    from centers.models import ServiceCenter

    near = ServiceCenterFactory(lat=31.2, lng=121.4)
    ServiceCenterFactory(lat=39.9, lng=116.4)
    box = PreparedQuery(
        lambda lo, hi: ServiceCenter.objects.filter(lat__gte=lo, lat__lte=hi).order_by("pk"),
        model=ServiceCenter,
        floats=frozenset({"lo", "hi"}),
    )
    assert [c.pk for c in box.run(lo=31.0, hi=32.0)] == [near.pk]
    assert len(box.run(lo=30.0, hi=40.0)) == 2


def test_only_plain_model_querysets_of_the_model_named():
    with pytest.raises(ValueError, match="plain model queryset"):
        PreparedQuery(lambda v: RepairTicket.objects.filter(service_no=v).values("pk"), model=RepairTicket).run(v="X")
    with pytest.raises(ValueError, match="plain model queryset"):
        PreparedQuery(
            lambda v: RepairTicket.objects.filter(service_no=v).prefetch_related("events"), model=RepairTicket
        ).run(v="X")
    with pytest.raises(ValueError, match="not"):
        PreparedQuery(lambda v: TicketEvent.objects.filter(note=v), model=RepairTicket).run(v="X")


# --- planned once per connection on PostgreSQL (PREPARE / EXECUTE) ----------------------------------------------

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PREPARE is PostgreSQL's")


def _statements():
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cur.fetchall()}


@postgres_only
def test_postgresql_plans_it_once_per_connection_and_the_answers_do_not_change(settings, django_assert_num_queries):
    settings.PREPARED_STATEMENTS = True
    a, b = ticket(), ticket()
    query = _lookup([])
    with django_assert_num_queries(1):  # the PREPARE is connection set-up: not one of the counted queries
        [got] = query.run(service_no=a.service_no)
    name = query._compiled["default"].statement
    assert name and name in _statements()
    assert got.pk == a.pk and [x.pk for x in query.run(service_no=b.service_no)] == [b.pk]
    assert query.run(service_no="NOSUCHNO00") == []
    with django_assert_num_queries(1) as ctx:
        query.run(service_no=a.service_no)
    assert ctx.captured_queries[0]["sql"].startswith(f"EXECUTE {name}(")


@postgres_only
def test_a_new_connection_prepares_it_again(settings):
    settings.PREPARED_STATEMENTS = True
    t = ticket()
    query = _lookup([])
    query.run(service_no=t.service_no)
    name = query._compiled["default"].statement
    from servicehub import prepared

    raw = connection.connection
    prepared._PREPARED_ON.pop(raw)  # what a reconnect looks like: a driver connection that has prepared nothing
    with raw.cursor() as cur:
        cur.execute(f"DEALLOCATE {name}")
    assert [x.pk for x in query.run(service_no=t.service_no)] == [t.pk]
    assert name in _statements()


@postgres_only
def test_a_query_postgresql_refuses_to_prepare_runs_unprepared_and_aborts_nothing(settings, caplog):
    from django.db import transaction
    from django.db.models.expressions import RawSQL

    settings.PREPARED_STATEMENTS = True
    t = ticket()
    # "$1 IS NULL": PostgreSQL cannot tell the parameter's type, so PREPARE fails.
    query = PreparedQuery(
        lambda v: RepairTicket.objects.annotate(echo=RawSQL("%s IS NULL", [v])).filter(service_no=t.service_no),
        model=RepairTicket,
    )
    with transaction.atomic():
        [got] = query.run(v="hello")
        assert got.echo is False
        assert RepairTicket.objects.filter(pk=t.pk).exists()  # the transaction was not aborted
    assert query._compiled["default"].statement == ""
    assert "refused to prepare" in caplog.text
    assert query.run(v=None)[0].echo is True


def test_prepared_statements_are_off_unless_postgresql_says_so(settings):
    settings.PREPARED_STATEMENTS = False
    t = ticket()
    query = _lookup([])
    query.run(service_no=t.service_no)
    assert query._compiled["default"].statement == ""
