"""The sales API over HTTP: contract, validation (422 naming the field), 409 on stale versions, visibility (404)."""

import datetime
from decimal import Decimal

import pytest

from guanxi.sales import services
from guanxi.sales.models import Order, Payment
from tests.factories import make_customer

D = Decimal


@pytest.fixture
def rep_api(api_as, rep):
    return api_as(rep)


@pytest.fixture
def order(rep, customer, tea):
    return services.create_order(customer=customer, actor=rep, lines=[{"product": tea, "quantity": 2}])


def fields_named(response) -> set[str]:
    """The field names a 422 response points at (last element of each loc)."""
    return {str(part) for error in response.json()["detail"] for part in error["loc"]}


def test_placing_an_order_returns_exact_totals_as_strings(rep_api, customer, tea, kettle):
    response = rep_api.post("/orders", {
        "customer": customer.pk, "order_date": "2026-03-10",
        "lines": [{"product": tea.pk, "quantity": "3", "unit_price": "90.00"}, {"product": kettle.pk}],
    })

    assert response.status_code == 201, response.content
    body = response.json()
    assert D(body["total"]) == D("270.00") + kettle.list_price
    assert D(body["discount_total"]) == D("30.00")
    assert body["due_date"] == "2026-04-09"  # net 30
    assert body["number"].startswith("SO-2026-")
    assert len(body["lines"]) == 2


@pytest.mark.parametrize(("line", "field"), [
    ({"quantity": "-1"}, "quantity"),
    ({"unit_price": "1.005"}, "unit_price"),
    ({"unit_price": "1e40"}, "unit_price"),
    ({"quantity": "99999999999999999999"}, "quantity"),
    ({"product": 9_223_372_036_854_775_807}, "lines.0.product"),
    ({"product": 10**30}, "product"),
])
def test_bad_order_lines_are_422_naming_the_field(rep_api, customer, tea, line, field):
    response = rep_api.post("/orders", {"customer": customer.pk, "lines": [{"product": tea.pk, **line}]})

    assert response.status_code == 422, response.content
    assert field in fields_named(response)
    assert not Order.objects.exists()


def test_an_overpayment_is_422_and_the_order_is_unchanged(rep_api, customer, order):
    response = rep_api.post("/payments", {"customer": customer.pk, "order": order.pk, "amount": str(order.total + D("1"))})

    assert response.status_code == 422
    assert "amount" in fields_named(response)
    assert Order.objects.get(pk=order.pk).amount_paid == 0
    assert not Payment.objects.exists()


def test_a_payment_with_three_decimals_is_422(rep_api, customer):
    response = rep_api.post("/payments", {"customer": customer.pk, "amount": "10.005"})

    assert response.status_code == 422
    assert "amount" in fields_named(response)


def test_payment_then_receivables_show_the_balance(rep_api, customer, order):
    assert rep_api.post("/payments", {"customer": customer.pk, "order": order.pk, "amount": "50.00"}).status_code == 201

    body = rep_api.get(f"/customers/{customer.pk}/receivables").json()

    assert D(body["balance"]) == order.total - D("50.00")
    assert D(body["paid"]) == D("50.00")
    assert set(body["aging"]) == {"current", "1-30", "31-60", "61-90", "90+"}


def test_moving_an_opportunity_on_a_stale_version_is_409_with_the_current_version(rep_api, rep, customer, stages):
    opportunity = services.create_opportunity(customer=customer, title="年度采购", actor=rep)
    first = rep_api.post(f"/opportunities/{opportunity.pk}/move", {"stage": stages["Proposal"].pk, "version": opportunity.version})
    assert first.status_code == 200 and first.json()["probability"] == stages["Proposal"].probability

    stale = rep_api.post(f"/opportunities/{opportunity.pk}/move", {"stage": stages["Won"].pk, "version": opportunity.version})

    assert stale.status_code == 409
    assert stale.json()["current_version"] == opportunity.version + 1


def test_losing_through_the_api_needs_a_reason(rep_api, rep, customer, stages):
    opportunity = services.create_opportunity(customer=customer, title="年度采购", actor=rep)

    response = rep_api.post(f"/opportunities/{opportunity.pk}/move", {"stage": stages["Lost"].pk, "version": opportunity.version})

    assert response.status_code == 422
    assert "lost_reason" in fields_named(response)


def test_patching_an_opportunity_with_a_stale_version_is_409(rep_api, rep, customer):
    opportunity = services.create_opportunity(customer=customer, title="年度采购", actor=rep)
    assert rep_api.patch(f"/opportunities/{opportunity.pk}", {"version": 1, "amount": "100.00"}).status_code == 200

    assert rep_api.patch(f"/opportunities/{opportunity.pk}", {"version": 1, "amount": "200.00"}).status_code == 409


def test_orders_are_listed_with_count_and_filters(rep_api, rep, customer, tea):
    for _ in range(3):
        services.create_order(customer=customer, actor=rep, lines=[{"product": tea}])
    cancelled = services.create_order(customer=customer, actor=rep, lines=[{"product": tea}])
    services.cancel_order(order=cancelled, actor=rep, expected_version=cancelled.version)

    body = rep_api.get("/orders", status="confirmed", limit=2).json()

    assert body["count"] == 3 and body["count_capped"] is False
    assert len(body["items"]) == 2
    assert rep_api.get("/orders", status="nonsense").status_code == 422


def test_cancel_and_deliver_through_the_api(rep_api, rep, customer, tea):
    one = services.create_order(customer=customer, actor=rep, lines=[{"product": tea}])
    two = services.create_order(customer=customer, actor=rep, lines=[{"product": tea}], promised_delivery=datetime.date(2030, 1, 1))

    cancelled = rep_api.post(f"/orders/{one.pk}/cancel", {"version": one.version, "reason": "重复下单"})
    delivered = rep_api.post(f"/orders/{two.pk}/deliver", {"version": two.version})

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert delivered.status_code == 200 and delivered.json()["delivered_on"] is not None


def test_products_are_read_by_everyone_but_changed_by_managers_only(rep_api, api_as, admin_user, tea):
    assert rep_api.get(f"/products/{tea.pk}").json()["margin"] == str(tea.margin)
    assert rep_api.post("/products", {"sku": "X", "name": "X", "list_price": "1.00"}).status_code == 403

    admin_api = api_as(admin_user)
    response = admin_api.patch(f"/products/{tea.pk}", {"version": tea.version, "list_price": "120.00"})
    assert response.status_code == 200 and response.json()["list_price"] == "120.00"
    assert admin_api.patch(f"/products/{tea.pk}", {"version": tea.version, "name": "旧"}).status_code == 409


def test_stages_can_be_reordered_and_a_used_one_is_not_deleted(api_as, admin_user, rep, customer, stages):
    admin_api = api_as(admin_user)
    services.create_opportunity(customer=customer, title="年度采购", actor=rep, stage=stages["Lead"])
    ids = [s["id"] for s in admin_api.get("/stages").json()["items"]]

    reordered = admin_api.post("/stages/reorder", {"stage_ids": list(reversed(ids))})

    assert reordered.status_code == 200
    assert [s["id"] for s in reordered.json()] == list(reversed(ids))
    assert admin_api.delete(f"/stages/{stages['Lead'].pk}").status_code == 422
    assert admin_api.delete(f"/stages/{stages['Qualified'].pk}").status_code == 204


def test_another_reps_sales_records_are_404_everywhere(rep_api, other_rep, tea, stages):
    theirs = make_customer(other_rep)
    order = services.create_order(customer=theirs, actor=other_rep, lines=[{"product": tea}])
    opportunity = services.create_opportunity(customer=theirs, title="他们的", actor=other_rep)
    payment = services.record_payment(customer=theirs, order=order, amount=D("1.00"), actor=other_rep)
    order.refresh_from_db()

    assert rep_api.get("/orders").json()["count"] == 0
    assert rep_api.get("/opportunities").json()["count"] == 0
    assert rep_api.get("/payments").json()["count"] == 0
    assert payment.pk
    for method, path, data in [
        ("get", f"/orders/{order.pk}", None),
        ("post", f"/orders/{order.pk}/cancel", {"version": order.version}),
        ("post", f"/orders/{order.pk}/deliver", {"version": order.version}),
        ("get", f"/opportunities/{opportunity.pk}", None),
        ("patch", f"/opportunities/{opportunity.pk}", {"version": opportunity.version, "title": "x"}),
        ("post", f"/opportunities/{opportunity.pk}/move", {"version": opportunity.version, "stage": stages["Won"].pk}),
        ("get", f"/customers/{theirs.pk}/receivables", None),
        ("post", "/orders", {"customer": theirs.pk, "lines": [{"product": tea.pk}]}),
        ("post", "/opportunities", {"customer": theirs.pk, "title": "x"}),
        ("post", "/payments", {"customer": theirs.pk, "amount": "1.00"}),
    ]:
        response = rep_api.get(path) if method == "get" else getattr(rep_api, method)(path, data)
        assert response.status_code == 404, (method, path, response.content)
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_read_only_roles_read_orders_but_cannot_write_them(api_as, analyst, customer, order):
    analyst_api = api_as(analyst)

    assert analyst_api.get(f"/orders/{order.pk}").status_code == 200
    assert analyst_api.post(f"/orders/{order.pk}/cancel", {"version": order.version}).status_code == 403
    assert analyst_api.post("/payments", {"customer": customer.pk, "amount": "1.00"}).status_code == 403


def test_the_order_list_costs_the_same_queries_for_any_page_size(rep_api, rep, customer, tea, django_assert_max_num_queries):
    for _ in range(12):
        services.create_order(customer=customer, actor=rep, lines=[{"product": tea}])

    with django_assert_max_num_queries(6):
        assert len(rep_api.get("/orders", limit=2).json()["items"]) == 2
    with django_assert_max_num_queries(6):
        assert len(rep_api.get("/orders", limit=12).json()["items"]) == 12


def test_sales_plans_and_expenses_through_the_api(rep_api, rep, customer, order):
    year = order.order_date.year
    plan = rep_api.post("/sales-plans", {"owner": rep.pk, "period_start": f"{year}-01-01", "period_end": f"{year}-12-31", "target": "1000.00"})
    assert plan.status_code == 201, plan.content
    backwards = rep_api.post("/sales-plans", {"owner": rep.pk, "period_start": "2101-01-01", "period_end": "2100-01-01", "target": "1.00"})
    assert backwards.status_code == 422 and "period_end" in fields_named(backwards)

    progress = rep_api.get(f"/sales-plans/{plan.json()['id']}/progress").json()
    expense = rep_api.post("/sales-expenses", {"customer": customer.pk, "order": order.pk, "amount": "35.50", "category": "gifts"})

    assert D(progress["actual"]) == order.total
    assert expense.status_code == 201 and expense.json()["order_id"] == order.pk


def test_an_order_line_carries_its_batch_stripped(rep_api, customer, tea):
    response = rep_api.post("/orders", {"customer": customer.pk, "lines": [{"product": tea.pk, "batch": "  B202603-A  "}, {"product": tea.pk}]})

    assert response.status_code == 201, response.content
    assert [line["batch"] for line in response.json()["lines"]] == ["B202603-A", ""]


def test_a_batch_longer_than_40_characters_is_422_naming_it(rep_api, customer, tea):
    response = rep_api.post("/orders", {"customer": customer.pk, "lines": [{"product": tea.pk, "batch": "x" * 41}]})

    assert response.status_code == 422, response.content
    assert "batch" in fields_named(response)
    assert not Order.objects.exists()
