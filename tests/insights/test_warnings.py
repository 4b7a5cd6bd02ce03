"""Early warnings: each fires on its boundary and not just short of it, exactly once however often
the evaluation runs; administrators' rules switch them off; people acknowledge and resolve them."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from guanxi.customers import services as customer_services
from guanxi.insights import services
from guanxi.insights.models import CustomerScore, Warning, WarningRule
from guanxi.sales import services as sales
from tests.factories import make_customer
from tests.insights.conftest import AS_OF, buy

pytestmark = pytest.mark.django_db


def set_rule(kind, **parameters):
    WarningRule.objects.filter(kind=kind).update(parameters=parameters)


ALL_GRADES = ["key", "normal", "small", "bad"]


def evaluate(kind, as_of=AS_OF):
    return services.evaluate_warnings(as_of=as_of, kinds=[kind])[kind]


def warnings_of(kind, customer=None):
    found = Warning.objects.filter(kind=kind)
    return found.filter(customer=customer) if customer else found


# --- credit limit ----------------------------------------------------------------------------------

@pytest.fixture
def on_credit(rep):
    return make_customer(rep, name="赊账客户", credit_limit=Decimal("1000.00"))


def test_receivables_equal_to_the_credit_limit_raise_no_warning(on_credit, rep, catalogue):
    buy(on_credit, rep, catalogue["tea"], AS_OF, quantity=10, paid=False)  # owes exactly 1,000.00
    assert evaluate("credit_limit") == 0


def test_receivables_a_cent_over_the_credit_limit_raise_one_warning_for_the_owner(on_credit, rep, catalogue):
    buy(on_credit, rep, catalogue["tea"], AS_OF, quantity=10, paid=False)
    buy(on_credit, rep, catalogue["cup"], AS_OF, unit_price="0.01", paid=False)  # 1,000.01
    assert evaluate("credit_limit") == 1
    assert evaluate("credit_limit") == 0  # a rerun raises nothing new
    warning = warnings_of("credit_limit", on_credit).get()
    assert warning.assignee == rep and warning.status == Warning.Status.OPEN


def test_the_live_credit_check_allows_an_order_up_to_the_limit_and_not_a_cent_more(on_credit, rep, catalogue):
    buy(on_credit, rep, catalogue["tea"], AS_OF, quantity=9, paid=False)  # owes 900.00
    assert not services.check_credit(customer=on_credit, extra_amount=Decimal("100.00")).exceeds
    check = services.check_credit(customer=on_credit, extra_amount=Decimal("100.01"))
    assert check.exceeds and check.available == Decimal("100.00")


def test_a_customer_without_a_credit_limit_is_never_over_it(rep, catalogue):
    customer = make_customer(rep, name="现款客户")
    buy(customer, rep, catalogue["tea"], AS_OF, quantity=50, paid=False)
    assert not services.check_credit(customer=customer, extra_amount=Decimal("1.00")).exceeds
    assert evaluate("credit_limit") == 0


def test_the_credit_check_refuses_a_negative_amount(on_credit):
    with pytest.raises(ValidationError) as error:
        services.check_credit(customer=on_credit, extra_amount=Decimal("-1"))
    assert "extra_amount" in error.value.message_dict


# --- sales pace ------------------------------------------------------------------------------------

@pytest.fixture
def june_plan(manager, rep):
    """3,000 for June; on 10 June 1,000 is due pro rata, and 900 keeps within the 10 % tolerance."""
    return sales.create_sales_plan(actor=manager, owner=rep, period_start=datetime.date(2026, 6, 1),
                                   period_end=datetime.date(2026, 6, 30), target=Decimal("3000.00"))


def test_sales_at_the_tolerance_of_the_pro_rata_plan_raise_no_warning(june_plan, rep, catalogue):
    customer = make_customer(rep)
    buy(customer, rep, catalogue["tea"], datetime.date(2026, 6, 5), quantity=9)
    assert evaluate("sales_pace", datetime.date(2026, 6, 10)) == 0


def test_sales_a_cent_behind_the_tolerance_raise_one_warning_for_the_rep(june_plan, rep, catalogue):
    customer = make_customer(rep)
    buy(customer, rep, catalogue["tea"], datetime.date(2026, 6, 5), quantity=9, unit_price="99.99")  # 899.91
    assert evaluate("sales_pace", datetime.date(2026, 6, 10)) == 1
    assert evaluate("sales_pace", datetime.date(2026, 6, 10)) == 0
    assert warnings_of("sales_pace").get().assignee == rep


# --- expenses ------------------------------------------------------------------------------------

def test_expenses_equal_to_the_budget_raise_no_warning_and_a_cent_over_raise_one(manager, rep):
    customer = make_customer(rep)
    sales.create_expense_budget(actor=manager, customer=customer, period_start=datetime.date(2026, 6, 1),
                                period_end=datetime.date(2026, 6, 30), amount=Decimal("500.00"))
    sales.record_sales_expense(actor=rep, customer=customer, amount=Decimal("500.00"), spent_on=datetime.date(2026, 6, 2))
    assert evaluate("expenses") == 0
    sales.record_sales_expense(actor=rep, customer=customer, amount=Decimal("0.01"), spent_on=datetime.date(2026, 6, 3))
    assert evaluate("expenses") == 1
    assert evaluate("expenses") == 0
    assert warnings_of("expenses", customer).get().assignee == rep


@pytest.mark.parametrize(("recent", "raised"), [("1500.00", 0), ("1500.01", 1)])
def test_expenses_climbing_fire_only_above_the_set_rate(rep, recent, raised):
    # Given 1,000 a month over the three months before, a 50 % climb rate and no minimum
    set_rule("expenses", climb_rate=0.5, min_amount=0, months=3)
    customer = make_customer(rep)
    for days_back in (40, 70, 100):
        sales.record_sales_expense(actor=rep, customer=customer, amount=Decimal("1000.00"),
                                   spent_on=AS_OF - datetime.timedelta(days=days_back))
    # When the last 30 days cost `recent`
    sales.record_sales_expense(actor=rep, customer=customer, amount=Decimal(recent), spent_on=AS_OF)
    evaluate("expenses")
    # Then the customer's warning is raised only strictly above 1,500 (the rep's own spending climbs alike)
    assert warnings_of("expenses", customer).count() == raised


# --- churn and lost --------------------------------------------------------------------------------

def test_churn_risk_fires_strictly_below_the_p_alive_threshold(shop, manager):
    services.run_scoring(as_of=AS_OF, actor=manager)
    score = CustomerScore.objects.filter(run__is_current=True, p_alive__isnull=False, p_alive__lt=0.99).order_by("p_alive").last()
    set_rule("churn_risk", grades=ALL_GRADES, p_alive_below=score.p_alive, gap_factor=1e9, min_orders=2, recent_days=10**5)
    evaluate("churn_risk")
    assert not warnings_of("churn_risk", score.customer).exists()
    set_rule("churn_risk", grades=ALL_GRADES, p_alive_below=score.p_alive + 1e-9, gap_factor=1e9, min_orders=2, recent_days=10**5)
    evaluate("churn_risk")
    evaluate("churn_risk")
    assert warnings_of("churn_risk", score.customer).count() == 1


@pytest.mark.parametrize(("days_quiet", "raised"), [(30, 0), (31, 1)])
def test_churn_risk_fires_when_the_gap_is_more_than_three_usual_intervals(shop, manager, rep, catalogue, days_quiet, raised):
    # Given a customer who bought every 10 days, three times
    customer = make_customer(rep, name="规律客户")
    last = AS_OF - datetime.timedelta(days=days_quiet)
    for back in (20, 10, 0):
        buy(customer, rep, catalogue["tea"], last - datetime.timedelta(days=back))
    services.run_scoring(as_of=AS_OF, actor=manager)
    # When nothing has been ordered for `days_quiet` days (P(alive) left out of the rule)
    set_rule("churn_risk", grades=ALL_GRADES, p_alive_below=0, gap_factor=3, min_orders=2)
    evaluate("churn_risk")
    # Then the warning fires only beyond 3 × 10 days
    assert warnings_of("churn_risk", customer).count() == raised


def test_by_default_churn_risk_warns_about_key_and_normal_customers_only(shop, manager):
    # Given every scored customer past the P(alive) threshold, with the rule's default grades
    services.run_scoring(as_of=AS_OF, actor=manager)
    set_rule("churn_risk", p_alive_below=1.01, gap_factor=1e9, min_orders=2, recent_days=10**5)
    evaluate("churn_risk")
    # Then the warned customers are exactly the key and normal ones (small and bad ones are left out)
    scored = CustomerScore.objects.filter(run__is_current=True, p_alive__isnull=False)
    assert scored.filter(grade__in=["small", "bad"]).exists()
    warned = set(warnings_of("churn_risk").values_list("customer_id", flat=True))
    assert warned == set(scored.filter(grade__in=["key", "normal"]).values_list("customer_id", flat=True))


def test_a_customer_who_bought_only_one_off_products_never_gets_a_churn_warning(shop, manager):
    services.run_scoring(as_of=AS_OF, actor=manager)
    set_rule("churn_risk", grades=ALL_GRADES, p_alive_below=1.01, gap_factor=0, min_orders=1, recent_days=10**5)
    evaluate("churn_risk")
    assert warnings_of("churn_risk").exists()
    assert not warnings_of("churn_risk", shop[-1]).exists()  # the wedding-banquet customer


def test_a_customer_moved_to_lost_raises_one_warning(rep):
    customer = make_customer(rep, state="current")
    customer_services.change_state(customer=customer, to="lost", reason="竞争对手价格更低", reason_category="competitor", actor=rep)
    today = timezone.localdate(customer.state_changes.first().changed_at)
    assert evaluate("lost", today) == 1
    assert evaluate("lost", today) == 0


# --- cumulative purchases ---------------------------------------------------------------------------

@pytest.mark.parametrize(("cup_price", "raised"), [("99.99", 0), ("100.00", 1)])
def test_cumulative_purchases_fire_on_reaching_the_threshold(rep, catalogue, cup_price, raised):
    set_rule("cumulative_purchases", thresholds=[1000])
    customer = make_customer(rep)
    buy(customer, rep, catalogue["tea"], AS_OF, quantity=9)
    buy(customer, rep, catalogue["cup"], AS_OF, unit_price=cup_price)
    evaluate("cumulative_purchases")
    evaluate("cumulative_purchases")
    assert warnings_of("cumulative_purchases", customer).count() == raised


def test_only_the_highest_threshold_passed_is_raised(rep, catalogue):
    set_rule("cumulative_purchases", thresholds=[100, 1000])
    customer = make_customer(rep)
    buy(customer, rep, catalogue["tea"], AS_OF, quantity=10)
    evaluate("cumulative_purchases")
    assert [w.data["threshold"] for w in warnings_of("cumulative_purchases", customer)] == ["1000"]


def test_churn_risk_leaves_out_customers_gone_quiet_long_ago(shop, manager):
    services.run_scoring(as_of=AS_OF, actor=manager)
    set_rule("churn_risk", grades=ALL_GRADES, p_alive_below=1.01, gap_factor=0, min_orders=1, recent_days=90)
    evaluate("churn_risk")
    warned = CustomerScore.objects.filter(run__is_current=True, customer__warnings__kind="churn_risk")
    assert warned.exists() and all((AS_OF - s.last_order_on).days <= 90 for s in warned)


def test_a_threshold_passed_long_ago_raises_nothing(rep, catalogue):
    set_rule("cumulative_purchases", thresholds=[100], lookback_days=30)
    customer = make_customer(rep)
    buy(customer, rep, catalogue["tea"], AS_OF - datetime.timedelta(days=31), quantity=2)
    buy(customer, rep, catalogue["tea"], AS_OF)
    assert evaluate("cumulative_purchases") == 0


# --- replacement due ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("as_of", "raised"), [(datetime.date(2026, 5, 30), 0), (datetime.date(2026, 5, 31), 1)])
def test_a_product_is_due_for_replacement_from_its_cycle_less_the_lead_time(rep, catalogue, as_of, raised):
    # Given a kettle (replacement cycle 365 days) bought on 30 June 2025 and a 30-day lead time
    set_rule("replacement_due", lead_days=30, max_overdue_days=365)
    customer = make_customer(rep)
    buy(customer, rep, catalogue["kettle"], datetime.date(2025, 6, 30))
    evaluate("replacement_due", as_of)
    evaluate("replacement_due", as_of)
    assert warnings_of("replacement_due", customer).count() == raised


# --- big-account risk ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("unit_price", "raised"), [("90.00", 0), ("89.99", 1)])
def test_a_key_customer_with_discounts_above_the_norm_raises_a_warning(rep, manager, catalogue, unit_price, raised):
    # Given a key customer whose only order is discounted from 100.00 to `unit_price`
    set_rule("big_account_risk", grades=["key"], late_days_over_terms=15, discount_rate_above=0.10,
             revenue_share_above=1.0, months=12)
    customer = make_customer(rep)
    buy(customer, rep, catalogue["tea"], AS_OF - datetime.timedelta(days=5), quantity=10, unit_price=unit_price)
    services.run_scoring(as_of=AS_OF, actor=manager)
    evaluate("big_account_risk")
    evaluate("big_account_risk")
    # Then the warning fires only strictly above 10 %
    assert warnings_of("big_account_risk", customer).count() == raised


def test_a_key_customer_bringing_most_of_the_revenue_raises_a_concentration_warning(rep, manager, catalogue):
    big, small = make_customer(rep), make_customer(rep)
    buy(big, rep, catalogue["tea"], AS_OF, quantity=20)
    buy(small, rep, catalogue["cup"], AS_OF)
    services.run_scoring(as_of=AS_OF, actor=manager)
    evaluate("big_account_risk")
    assert warnings_of("big_account_risk", big).get().data["aspect"] == "concentration"
    assert not warnings_of("big_account_risk", small).exists()


# --- rules and handling ------------------------------------------------------------------------------------

def test_a_rule_switched_off_raises_nothing(on_credit, rep, catalogue):
    WarningRule.objects.filter(kind="credit_limit").update(enabled=False)
    buy(on_credit, rep, catalogue["tea"], AS_OF, quantity=20, paid=False)
    assert "credit_limit" not in services.evaluate_warnings(as_of=AS_OF)


@pytest.fixture
def credit_warning(on_credit, rep, catalogue):
    buy(on_credit, rep, catalogue["tea"], AS_OF, quantity=20, paid=False)
    evaluate("credit_limit")
    return warnings_of("credit_limit", on_credit).get()


def test_the_owner_acknowledges_then_resolves_a_warning_with_a_note(credit_warning, rep):
    services.acknowledge_warning(warning=credit_warning, actor=rep, note="已联系财务")
    resolved = services.resolve_warning(warning=credit_warning, actor=rep, note="客户已付款")
    assert resolved.status == Warning.Status.RESOLVED and resolved.resolved_by == rep
    assert "已联系财务" in resolved.note and "客户已付款" in resolved.note


def test_resolving_needs_a_note(credit_warning, rep):
    with pytest.raises(ValidationError) as error:
        services.resolve_warning(warning=credit_warning, actor=rep, note=" ")
    assert "note" in error.value.message_dict


def test_another_rep_cannot_see_or_handle_the_warning(credit_warning, other_rep):
    with pytest.raises(Warning.DoesNotExist):
        services.acknowledge_warning(warning=credit_warning, actor=other_rep)


def test_an_analyst_sees_but_cannot_handle_a_warning(credit_warning, analyst):
    with pytest.raises(PermissionDenied):
        services.acknowledge_warning(warning=credit_warning, actor=analyst)


def test_a_credit_warning_opens_one_collection_task_for_the_owner(on_credit, rep, catalogue):
    from guanxi.engagement.models import Task

    buy(on_credit, rep, catalogue["tea"], AS_OF, quantity=20, paid=False)
    evaluate("credit_limit")
    evaluate("credit_limit")
    task = Task.objects.get(customer=on_credit)
    assert task.assignee == rep and task.title == str(services.WARNING_TASKS["credit_limit"][0])


def test_an_administrator_can_switch_the_task_off(on_credit, rep, catalogue):
    from guanxi.engagement.models import Task

    set_rule("credit_limit", task=False)
    buy(on_credit, rep, catalogue["tea"], AS_OF, quantity=20, paid=False)
    assert evaluate("credit_limit") == 1
    assert not Task.objects.filter(customer=on_credit).exists()
