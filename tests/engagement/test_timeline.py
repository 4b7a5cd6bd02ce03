"""The customer timeline merges every source newest first, pages with a cursor, and costs constant queries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer, CustomerEvent, StateChange
from guanxi.customers.timeline import customer_timeline
from guanxi.engagement import services
from guanxi.engagement.models import Interaction, Task
from guanxi.sales import services as sales
from guanxi.sales.models import Order, Payment
from tests.factories import make_customer

SOURCES = {"state_change", "event", "interaction", "order", "payment", "task"}
# One query for the visibility check, one per source.
QUERIES_PER_PAGE = 1 + len(SOURCES)


def one_of_each(customer, actor, product):
    """One row from every source; returns the objects in the order they were made."""
    customer_services.mark_verified(customer=customer, actor=actor)  # a CustomerEvent
    interaction = services.log_interaction(customer=customer, channel="phone", direction="in", subject="来电", actor=actor)
    order = sales.create_order(customer=customer, actor=actor, lines=[{"product": product}])
    payment = sales.record_payment(customer=customer, order=order, amount=Decimal("10.00"), actor=actor)
    task = services.create_task(title="回访", actor=actor, assignee=actor, customer=customer)
    return interaction, order, payment, task


def spread_times(customer, start: datetime.datetime) -> None:
    """Give every row its own minute, in a shuffled order across sources, so the merge has work to do."""
    models = [(Task, "created_at"), (StateChange, "changed_at"), (Payment, "created_at"),
              (CustomerEvent, "occurred_at"), (Order, "created_at"), (Interaction, "occurred_at")]
    minute = 0
    for model, field in models:
        for pk in model.objects.filter(customer=customer).order_by("pk").values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(**{field: start + datetime.timedelta(minutes=minute)})
            minute += 7


def test_the_timeline_merges_every_source_newest_first(rep, customer, tea):
    one_of_each(customer, rep, tea)
    spread_times(customer, timezone.now() - datetime.timedelta(days=1))

    items = customer_timeline(rep, customer)

    assert {item.kind for item in items} == SOURCES
    assert [item.at for item in items] == sorted((item.at for item in items), reverse=True)
    assert items[0].kind == "interaction"  # given the newest time by spread_times
    assert items[-1].kind == "task"
    assert all(item.ref.startswith(f"{item.kind}:") for item in items)


def test_the_timeline_costs_the_same_queries_for_a_short_and_a_long_history(rep, tea, django_assert_max_num_queries):
    short, long = make_customer(rep), make_customer(rep)
    one_of_each(short, rep, tea)
    for _ in range(25):
        one_of_each(long, rep, tea)

    with CaptureQueriesContext(connection) as short_queries:
        short_items = customer_timeline(rep, short, limit=50)
    with django_assert_max_num_queries(QUERIES_PER_PAGE):
        long_items = customer_timeline(rep, long, limit=50)

    assert len(short_queries) == QUERIES_PER_PAGE
    assert len(short_items) < 50 and len(long_items) == 50


def test_paging_with_the_cursor_returns_every_item_once_even_when_times_tie(rep, customer, tea):
    for _ in range(4):
        one_of_each(customer, rep, tea)
    same_moment = timezone.now() - datetime.timedelta(hours=3)
    for model, field in [(StateChange, "changed_at"), (CustomerEvent, "occurred_at"), (Interaction, "occurred_at"),
                         (Order, "created_at"), (Payment, "created_at"), (Task, "created_at")]:
        model.objects.filter(customer=customer).update(**{field: same_moment})
    everything = customer_timeline(rep, customer, limit=200)

    pages, before = [], None
    while True:
        page = customer_timeline(rep, customer, limit=3, before=before)
        pages.extend(page)
        if len(page) < 3:
            break
        before = page[-1].cursor

    assert [item.ref for item in pages] == [item.ref for item in everything]
    assert len({item.ref for item in pages}) == len(everything)


def test_a_time_as_before_returns_only_older_items(rep, customer, tea):
    one_of_each(customer, rep, tea)
    spread_times(customer, timezone.now() - datetime.timedelta(days=1))
    items = customer_timeline(rep, customer)
    middle = items[len(items) // 2]

    older = customer_timeline(rep, customer, before=middle.at)

    assert older and all(item.at < middle.at for item in older)


def test_another_reps_customer_has_no_timeline(rep, other_rep):
    theirs = make_customer(other_rep)

    with pytest.raises(Customer.DoesNotExist):
        customer_timeline(rep, theirs)


def test_the_timeline_endpoint_pages_and_hides_other_reps_customers(api_as, rep, other_rep, customer, tea):
    for _ in range(3):
        one_of_each(customer, rep, tea)
    client = api_as(rep)

    first = client.get(f"/customers/{customer.pk}/timeline", limit=5).json()
    second = client.get(f"/customers/{customer.pk}/timeline", limit=5, before=first["next"]).json()

    assert len(first["items"]) == 5 and first["next"] == first["items"][-1]["cursor"]
    assert not {i["ref"] for i in first["items"]} & {i["ref"] for i in second["items"]}
    assert client.get(f"/customers/{make_customer(other_rep).pk}/timeline").status_code == 404
    assert client.get(f"/customers/{customer.pk}/timeline", before="garbage").status_code == 422


def test_each_timeline_item_names_who_did_it(rep, customer, tea, manager):
    order = sales.create_order(customer=customer, actor=manager, lines=[{"product": tea}])

    items = {item.ref: item for item in customer_timeline(rep, customer)}

    assert items[f"order:{order.pk}"].actor == str(manager)
    assert items[f"state_change:{customer.state_changes.get().pk}"].actor == str(rep)
