"""Scoring runs: stored scores equal guanxi.analytics on the same data; runs flip atomically."""

import datetime
from decimal import Decimal

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F

from guanxi.analytics import clv, grading, rfm
from guanxi.insights import services
from guanxi.insights.models import CustomerScore, GradeHistory, ScoringRun
from guanxi.sales.models import Order, SalesExpense
from tests.insights.conftest import AS_OF, buy

pytestmark = pytest.mark.django_db


def reference(as_of):
    """What guanxi.analytics says, computed straight from the orders without the insights code."""
    orders = Order.objects.filter(status__in=["confirmed", "delivered"], order_date__lte=as_of).order_by("customer_id")
    rows = list(orders.values_list("customer_id", "order_date", "total", "cost_total"))
    one_off = {o.pk for o in orders if o.lines.filter(product__is_one_off=True).exists()}
    ids = sorted({r[0] for r in rows})
    revenue = {c: sum((r[2] for r in rows if r[0] == c), Decimal(0)) for c in ids}
    margin = {c: sum((r[2] - r[3] for r in rows if r[0] == c), Decimal(0)) for c in ids}
    expenses = {c: sum(SalesExpense.objects.filter(customer_id=c).values_list("amount", flat=True), Decimal(0)) for c in ids}
    profit = np.array([float(margin[c] - expenses[c]) for c in ids])
    cutoff = as_of - datetime.timedelta(days=180)
    bad_debt = [orders.filter(customer_id=c, due_date__lt=cutoff, amount_paid__lt=F("total")).exists() for c in ids]
    last = {c: max(r[1] for r in rows if r[0] == c) for c in ids}
    count = {c: sum(1 for r in rows if r[0] == c) for c in ids}
    recency = np.array([(as_of - last[c]).days for c in ids], dtype=float)
    frequency = np.array([count[c] for c in ids], dtype=float)
    money = np.array([float(revenue[c]) for c in ids])
    repeatable = [(r[0], r[1], float(r[2])) for r, o in zip(rows, orders) if o.pk not in one_off]
    summary = clv.summary_from_transactions(
        [r[0] for r in repeatable], [r[1] for r in repeatable], [r[2] for r in repeatable], as_of, freq="D")
    bg = clv.BetaGeo().fit(summary.frequency, summary.recency, summary.T)
    gg = clv.GammaGamma().fit(summary.frequency, summary.monetary_value)
    margin_rate = float(sum(margin.values()) / sum(revenue.values()))
    return {
        "ids": ids,
        "rfm": rfm.rfm_scores(recency, frequency, money),
        "grades": grading.pareto_grades(profit, bad_debt=bad_debt),
        "clv_ids": list(summary.customer_ids),
        "p_alive": bg.p_alive(summary.frequency, summary.recency, summary.T),
        "expected_90": bg.expected_purchases(90, summary.frequency, summary.recency, summary.T),
        "clv": clv.customer_lifetime_value(bg, gg, summary.frequency, summary.recency, summary.T, summary.monetary_value,
                                           periods=12, discount_rate=0.01, period_length=30.4375, margin=margin_rate),
        "profit": {c: margin[c] - expenses[c] for c in ids},
    }


def test_scores_match_the_analytics_engine_on_the_same_orders(shop, manager):
    # Given a shop with two years of orders and a sales expense on one customer
    SalesExpense.objects.create(customer=shop[0], owner=shop[0].owner, amount=Decimal("123.45"), spent_on=AS_OF)
    # When a manager scores it
    run = services.run_scoring(as_of=AS_OF, actor=manager)
    # Then every stored score is what guanxi.analytics computes on the same data
    expected = reference(AS_OF)
    stored = {s.customer_id: s for s in CustomerScore.objects.filter(run=run)}
    assert sorted(stored) == expected["ids"]
    for i, customer_id in enumerate(expected["ids"]):
        score = stored[customer_id]
        assert score.rfm_cell == expected["rfm"].cell[i]
        assert score.grade == expected["grades"][i]
        assert score.profit == expected["profit"][customer_id]
    for i, customer_id in enumerate(expected["clv_ids"]):
        score = stored[customer_id]
        assert score.p_alive == pytest.approx(expected["p_alive"][i], rel=1e-9)
        assert score.expected_purchases_90d == pytest.approx(expected["expected_90"][i], rel=1e-9)
        assert score.clv == Decimal(str(round(expected["clv"][i], 2)))


def test_a_customer_who_bought_only_one_off_products_stays_out_of_clv(shop, manager):
    # Given a customer whose only purchase was a wedding banquet (one-off)
    banquet_only = shop[-1]
    # When the shop is scored
    run = services.run_scoring(as_of=AS_OF, actor=manager)
    # Then the customer is graded on profit but has no churn or CLV figures
    score = CustomerScore.objects.get(run=run, customer=banquet_only)
    assert score.profit == Decimal("3000.00")
    assert (score.p_alive, score.expected_purchases_90d, score.clv) == (None, None, None)


def test_a_new_run_becomes_current_and_the_previous_stops_being_current(shop, manager):
    first = services.run_scoring(as_of=AS_OF, actor=manager)
    second = services.run_scoring(as_of=AS_OF, actor=manager)
    first.refresh_from_db()
    assert (first.is_current, second.is_current) == (False, True)
    assert second.status == ScoringRun.Status.DONE and second.customers == len(shop)


def test_grade_history_records_only_changes(shop, manager, catalogue):
    # Given a first run (every customer gets their first grade)
    services.run_scoring(as_of=AS_OF, actor=manager)
    assert GradeHistory.objects.count() == len(shop)
    small = CustomerScore.objects.filter(run__is_current=True, grade="small").values_list("customer", flat=True).first()
    # When one small customer places a big order and scoring runs again
    customer = next(c for c in shop if c.pk == small)
    buy(customer, customer.owner, catalogue["kettle"], AS_OF, quantity=400)
    services.run_scoring(as_of=AS_OF, actor=manager)
    # Then that customer's move is recorded, and nobody whose grade stayed gets a new row
    moves = GradeHistory.objects.filter(run__is_current=True)
    assert ("small", "key") in {(m.from_grade, m.grade) for m in moves if m.customer_id == small}
    unchanged = CustomerScore.objects.filter(run__is_current=True).exclude(customer_id__in=moves.values("customer_id"))
    assert unchanged.exists()


def test_a_sales_rep_may_not_run_scoring(shop, rep):
    with pytest.raises(PermissionDenied):
        services.run_scoring(as_of=AS_OF, actor=rep)


def test_a_second_run_is_refused_while_one_is_alive(shop, manager):
    services.start_scoring_run(as_of=AS_OF, actor=manager)  # this process: alive
    with pytest.raises(ValidationError):
        services.run_scoring(as_of=AS_OF, actor=manager)


def test_a_silent_run_is_cleaned_up_and_the_next_one_completes(shop, manager):
    # Given a finished run and a later run that stopped reporting progress long ago
    good = services.run_scoring(as_of=AS_OF, actor=manager)
    stale = services.start_scoring_run(as_of=AS_OF, actor=manager)
    ScoringRun.objects.filter(pk=stale.pk).update(heartbeat_at=stale.heartbeat_at - datetime.timedelta(hours=1))
    # When scoring runs again
    rerun = services.run_scoring(as_of=AS_OF, actor=manager)
    # Then the stale run is failed and the new one is current
    stale.refresh_from_db()
    assert stale.status == ScoringRun.Status.FAILED
    assert rerun.is_current and rerun.pk != good.pk


def test_scoring_before_any_order_makes_an_empty_current_run(manager):
    run = services.run_scoring(as_of=AS_OF, actor=manager)
    assert (run.status, run.is_current, run.customers) == ("done", True, 0)


@pytest.mark.parametrize(("path", "params"), [
    ("/scores", {"grade": "vip"}),
    ("/customers/0/scores", {}),
    ("/exports/customers", {"fmt": "pdf"}),
    ("/warnings", {"status": "x" * 300}),
    ("/products/1/lookalikes", {"limit": 10**6}),
])
def test_bad_input_is_a_422_naming_the_parameter(admin_user, api_as, path, params):
    response = api_as(admin_user).get(path, **params)
    assert response.status_code == 422
