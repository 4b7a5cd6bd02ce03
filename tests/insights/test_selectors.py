"""Insights reads: grade moves per period, service policy, cross-sell/up-sell, prospects,
relationship value and KPIs — each through visible customers."""

import datetime
from decimal import Decimal

import pytest

from guanxi.insights import selectors, services
from guanxi.insights.models import CustomerScore, GradeHistory
from guanxi.sales import services as sales
from tests.factories import make_customer
from tests.insights.conftest import AS_OF, buy

pytestmark = pytest.mark.django_db


def test_upgrades_and_downgrades_are_listed_per_period(rep, manager, catalogue):
    # Given two customers graded key and normal a month ago, then their fortunes swap
    a, b = make_customer(rep, name="甲"), make_customer(rep, name="乙")
    buy(a, rep, catalogue["tea"], AS_OF - datetime.timedelta(days=40), quantity=10)
    buy(b, rep, catalogue["cup"], AS_OF - datetime.timedelta(days=40))
    services.run_scoring(as_of=AS_OF - datetime.timedelta(days=30), actor=manager)
    buy(b, rep, catalogue["tea"], AS_OF, quantity=500)
    services.run_scoring(as_of=AS_OF, actor=manager)
    # When the moves of the last week are listed
    week = {"start": AS_OF - datetime.timedelta(days=7), "end": AS_OF}
    ups = selectors.grade_moves(manager, direction="up", **week)
    downs = selectors.grade_moves(manager, direction="down", **week)
    # Then b moved up and a moved down; first grades (a month ago) are not moves
    assert [(m.customer_id, m.from_grade, m.grade) for m in ups] == [(b.pk, "normal", "key")]
    assert [(m.customer_id, m.from_grade, m.grade) for m in downs] == [(a.pk, "key", "small")]
    assert GradeHistory.objects.filter(from_grade="").count() == 2


def test_a_key_customer_gets_an_account_manager_and_a_contact_frequency(rep, manager, catalogue):
    customer = make_customer(rep)
    buy(customer, rep, catalogue["tea"], AS_OF)
    services.run_scoring(as_of=AS_OF, actor=manager)
    policy = selectors.service_policy_for(rep, customer.pk)
    assert policy.grade == "key" and policy.account_manager and policy.contact_every_days == 30


def test_a_bad_customer_without_potential_gets_collection_and_a_credit_freeze(rep, manager, catalogue):
    customer = make_customer(rep, upgrade_potential="none")
    buy(customer, rep, catalogue["tea"], AS_OF - datetime.timedelta(days=400), paid=False)  # a year overdue
    services.run_scoring(as_of=AS_OF, actor=manager)
    policy = selectors.service_policy_for(rep, customer.pk)
    assert (policy.grade, policy.credit_freeze, policy.payment_terms) == ("bad", True, "prepay")


def test_a_key_customer_contacted_long_ago_raises_a_contact_overdue_warning(rep, manager, catalogue):
    customer = make_customer(rep)
    buy(customer, rep, catalogue["tea"], AS_OF)
    services.run_scoring(as_of=AS_OF, actor=manager)
    assert services.evaluate_warnings(as_of=AS_OF, kinds=["contact_overdue"]) == {"contact_overdue": 1}


def test_cross_sell_suggests_what_similar_customers_bought(rep, catalogue):
    for _ in range(2):
        peer = make_customer(rep)
        for product in ("tea", "cup", "kettle"):
            buy(peer, rep, catalogue[product], AS_OF)
    customer = make_customer(rep)
    buy(customer, rep, catalogue["tea"], AS_OF)
    suggested = [p for p, _score in selectors.cross_sell_for_customer(rep, customer.pk)]
    assert set(suggested) == {catalogue["cup"], catalogue["kettle"]}


def test_up_sell_suggests_pricier_products_in_the_categories_bought(rep, admin_user):
    drinks = sales.create_product_category(actor=admin_user, name="茶")
    cheap = sales.create_product(actor=admin_user, sku="T1", name="绿茶", list_price=Decimal("50"), category=drinks)
    dear = sales.create_product(actor=admin_user, sku="T2", name="大红袍", list_price=Decimal("500"), category=drinks)
    sales.create_product(actor=admin_user, sku="X", name="水壶", list_price=Decimal("900"))
    customer = make_customer(rep)
    buy(customer, rep, cheap, AS_OF)
    assert list(selectors.up_sell_for_customer(rep, customer.pk)) == [dear]


def test_prospects_are_ranked_by_resemblance_to_key_customers(rep, manager, catalogue):
    # Given a key customer, a manufacturing company in Hangzhou
    key = make_customer(rep, name="杭州机械有限公司", kind="organisation", industry="制造业", province="浙江", city="杭州",
                        state="current")
    buy(key, rep, catalogue["tea"], AS_OF, quantity=30)
    services.run_scoring(as_of=AS_OF, actor=manager)
    # And two prospects: one like it, one not
    alike = make_customer(rep, name="杭州精密机械", kind="organisation", industry="制造业", province="浙江", city="杭州")
    unlike = make_customer(rep, name="王小姐", province="广东", city="深圳")
    # Then the look-alike prospect comes first
    ranked = [c for c, _score in selectors.ranked_prospects(rep)]
    assert ranked[0] == alike and (unlike not in ranked or ranked.index(unlike) > 0)


def test_referral_value_counts_customers_brought_directly_and_indirectly(rep, manager, catalogue):
    # Given A referred B and B referred C
    a = make_customer(rep, name="介绍人")
    b = make_customer(rep, name="被介绍人", referred_by=a)
    c = make_customer(rep, name="再介绍", referred_by=b)
    for customer in (a, b, c):
        buy(customer, rep, catalogue["tea"], AS_OF)  # margin 40.00 each
    services.run_scoring(as_of=AS_OF, actor=manager)
    value = selectors.relationship_value(rep, a.pk)
    assert value.margin_to_date == Decimal("40.00")
    assert (value.referred_customers, value.referral_value) == (2, Decimal("80.00"))


def test_kpis_count_new_and_returning_customers_and_price_sensitivity(rep, manager, catalogue):
    loyal, gone, new = make_customer(rep), make_customer(rep), make_customer(rep)
    may, june = datetime.date(2026, 5, 15), datetime.date(2026, 6, 15)
    buy(loyal, rep, catalogue["tea"], may)
    buy(gone, rep, catalogue["tea"], may)
    buy(loyal, rep, catalogue["tea"], june, unit_price="90.00")  # bought on discount
    buy(new, rep, catalogue["tea"], june)
    services.run_scoring(as_of=AS_OF, actor=manager)
    figures = selectors.kpis(rep, start=datetime.date(2026, 6, 1), end=datetime.date(2026, 6, 30))
    assert (figures.new_customers, figures.returning_customers) == (1, 1)
    assert figures.repurchase_rate == pytest.approx(0.5) and figures.churn_rate == pytest.approx(0.5)
    assert figures.price_sensitivity == pytest.approx(0.5)
    scores = CustomerScore.objects.filter(run__is_current=True)
    assert figures.customer_equity == sum(s.profit + (s.clv or 0) for s in scores)


def test_kpis_leave_out_customers_the_user_cannot_see(rep, other_rep, catalogue):
    buy(make_customer(other_rep), other_rep, catalogue["tea"], datetime.date(2026, 6, 15))
    figures = selectors.kpis(rep, start=datetime.date(2026, 6, 1), end=datetime.date(2026, 6, 30))
    assert figures.customers_buying == 0


def test_a_move_into_a_grade_whose_policy_names_a_task_opens_it_once_for_the_owner(rep, manager, catalogue):
    # Given two customers graded a month ago: the first run ever opens no policy tasks
    from guanxi.engagement.models import Task

    a, b = make_customer(rep, name="甲"), make_customer(rep, name="乙")
    buy(a, rep, catalogue["tea"], AS_OF - datetime.timedelta(days=40), quantity=10)
    buy(b, rep, catalogue["cup"], AS_OF - datetime.timedelta(days=40))
    services.run_scoring(as_of=AS_OF - datetime.timedelta(days=30), actor=manager)
    assert not Task.objects.exists()
    # When b's purchases make it a key customer in the next run
    buy(b, rep, catalogue["tea"], AS_OF, quantity=500)
    services.run_scoring(as_of=AS_OF, actor=manager)
    # Then the key-account policy's task is b's owner's, saying why
    task = Task.objects.get(customer=b)
    assert task.title == "关键客户定期联系 Key-account contact"
    assert task.assignee == rep and task.status == Task.Status.OPEN
    assert "Account manager" in task.description
    # And a run that moves nobody opens nothing more
    services.run_scoring(as_of=AS_OF, actor=manager)
    assert Task.objects.filter(customer=b).count() == 1
