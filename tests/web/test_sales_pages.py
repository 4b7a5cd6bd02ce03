"""Pipeline, tasks, interactions, products, orders and receivables through the test client."""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.customers.models import PaymentTerms
from guanxi.engagement import services as engagement
from guanxi.engagement.models import Task
from guanxi.sales import services as sales
from guanxi.sales.models import Opportunity, Order, PipelineStage
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

PIPELINE_MAX_QUERIES = 12
TASKS_MAX_QUERIES = 10
LIST_MAX_QUERIES = 9
ORDER_MAX_QUERIES = 12
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def browser_as(browser_as):
    """Signed in, with an English browser (the messages asserted are the English ones)."""
    return lambda user: browser_as(user, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def tea(admin_user):
    return sales.create_product(actor=admin_user, sku="TEA-1", name="龙井茶礼盒", list_price=Decimal("100.00"), cost=Decimal("60.00"))


@pytest.fixture
def kettle(admin_user):
    return sales.create_product(actor=admin_user, sku="KET-1", name="电水壶", list_price=Decimal("249.90"), cost=Decimal("180.35"))


@pytest.fixture
def customer(rep):
    return make_customer(rep, name="李明华", payment_terms=PaymentTerms.NET, payment_days=30, credit_limit=Decimal("1000.00"))


def _stage(name):
    return PipelineStage.objects.get(name=name)


def _deals(rep, n, prefix="商机"):
    customer = make_customer(rep, name=f"{prefix}客户")
    return [sales.create_opportunity(customer=customer, title=f"{prefix}{i}", actor=rep, amount=Decimal("1000.00")) for i in range(n)]


# --- Pipeline ----------------------------------------------------------------------------------

def test_pipeline_query_count_is_pinned_and_does_not_grow_with_deals(browser_as, rep, django_assert_max_num_queries):
    client = browser_as(rep)
    _deals(rep, 2)
    with django_assert_max_num_queries(PIPELINE_MAX_QUERIES) as few:
        assert client.get("/pipeline/").status_code == 200
    _deals(rep, 30, prefix="更多")
    with django_assert_max_num_queries(PIPELINE_MAX_QUERIES) as many:
        assert client.get("/pipeline/").status_code == 200
    assert len(many.captured_queries) <= len(few.captured_queries)


def test_pipeline_shows_totals_and_weighted_amount_per_stage(browser_as, rep):
    # Given two deals of 1,000.00 in Lead (10 %)
    _deals(rep, 2)
    # When the rep opens the pipeline
    body = browser_as(rep).get("/pipeline/").content.decode()
    # Then the Lead column adds them up and weighs them by probability
    assert "2,000.00" in body
    assert "200.00" in body


def test_weighted_amounts_keep_their_cents_on_every_database(browser_as, rep):
    # Given a deal of 2,477.00 in Qualified (25 %): SQLite stores the amount as the integer 2477
    customer = make_customer(rep, name="整数金额客户")
    sales.create_opportunity(customer=customer, title="整数", actor=rep, amount=Decimal("2477.00"), stage=_stage("Qualified"))
    # Then its weighted amount is 619.25, not the 619 of integer division
    assert "619.25" in browser_as(rep).get("/pipeline/").content.decode()


def test_pipeline_shows_only_visible_deals_and_filters_by_owner(browser_as, rep, other_rep):
    _deals(rep, 1, prefix="我的")
    _deals(other_rep, 1, prefix="别人的")
    client = browser_as(rep)
    body = client.get("/pipeline/").content.decode()
    assert "我的0" in body and "别人的0" not in body
    assert "我的0" not in client.get(f"/pipeline/?owner={other_rep.pk}", **HTMX).content.decode()


def test_moving_a_deal_with_its_version_moves_it_and_announces_it(browser_as, rep):
    deal = _deals(rep, 1)[0]
    qualified = _stage("Qualified")
    # When the rep moves it (as the drag or the stage menu does, through htmx)
    response = browser_as(rep).post(f"/pipeline/{deal.pk}/move/", {"stage": qualified.pk, "version": deal.version}, **HTMX)
    # Then the database has it in the new stage and the board says so
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == qualified
    announced = json.loads(response["HX-Trigger"])["pipelineMoved"]
    assert announced == {"message": "Moved “商机0” to Qualified.", "deal": deal.pk, "ok": True}


def test_moving_a_deal_someone_else_changed_is_refused_with_a_message_and_the_current_board(browser_as, rep):
    deal = _deals(rep, 1)[0]
    stale_version = deal.version
    sales.move_opportunity(opportunity=deal, to_stage=_stage("Proposal"), actor=rep, expected_version=deal.version)
    response = browser_as(rep).post(f"/pipeline/{deal.pk}/move/", {"stage": _stage("Qualified").pk, "version": stale_version}, **HTMX)
    assert response.status_code == 409
    assert "Someone else changed" in json.loads(response["HX-Trigger"])["pipelineMoved"]["message"]
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"


def test_moving_to_lost_asks_why_before_closing_the_deal(browser_as, rep):
    deal = _deals(rep, 1)[0]
    lost = _stage("Lost")
    client = browser_as(rep)
    # When the deal is dropped on Lost without a reason
    asked = client.post(f"/pipeline/{deal.pk}/move/", {"stage": lost.pk, "version": deal.version}, **HTMX)
    # Then a dialog asks for the reason and nothing changes yet
    assert asked["HX-Retarget"] == "#modal-body"
    assert 'name="lost_reason"' in asked.content.decode()
    deal.refresh_from_db()
    assert deal.closed_at is None
    # When the reason is given
    client.post(f"/pipeline/{deal.pk}/move/", {"stage": lost.pk, "version": deal.version, "lost_reason": "价格太高"}, **HTMX)
    # Then the deal is lost, with that reason, and off the board
    deal.refresh_from_db()
    assert deal.stage == lost and deal.lost_reason == "价格太高" and deal.closed_at is not None


def test_another_reps_deal_cannot_be_moved(browser_as, rep, other_rep):
    deal = _deals(other_rep, 1)[0]
    response = browser_as(rep).post(f"/pipeline/{deal.pk}/move/", {"stage": _stage("Qualified").pk, "version": deal.version})
    assert response.status_code == 404
    assert Opportunity.objects.get(pk=deal.pk).stage.name == "Lead"


# --- Tasks ---------------------------------------------------------------------------------------

def _tasks(rep, customer, n, offset_hours):
    now = timezone.now()
    return [engagement.create_task(title=f"任务{offset_hours}-{i}", actor=rep, assignee=rep, customer=customer,
                                   due_at=now + datetime.timedelta(hours=offset_hours)) for i in range(n)]


def test_my_tasks_are_grouped_and_the_query_count_does_not_grow(browser_as, rep, customer, django_assert_max_num_queries):
    client = browser_as(rep)
    _tasks(rep, customer, 1, -5)
    with django_assert_max_num_queries(TASKS_MAX_QUERIES) as few:
        body = client.get("/tasks/").content.decode()
    assert "Overdue" in body and "任务-5-0" in body
    _tasks(rep, customer, 10, -3)
    _tasks(rep, customer, 10, 72)
    with django_assert_max_num_queries(TASKS_MAX_QUERIES) as many:
        assert client.get("/tasks/").status_code == 200
    assert len(many.captured_queries) <= len(few.captured_queries)
    with django_assert_max_num_queries(TASKS_MAX_QUERIES):
        assert client.get("/tasks/?view=team").status_code == 200


def test_completing_a_task_through_htmx_marks_it_done(browser_as, rep, customer):
    task = _tasks(rep, customer, 1, 2)[0]
    response = browser_as(rep).post(f"/tasks/{task.pk}/complete/", {"version": task.version}, **HTMX)
    assert response.status_code == 200 and "Done" in response.content.decode()
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


def test_completing_a_task_someone_else_changed_shows_it_as_it_now_is(browser_as, rep, customer, other_rep):
    task = _tasks(rep, customer, 1, 2)[0]
    old = task.version
    engagement.reassign_task(task=task, actor=rep, expected_version=task.version, assignee=other_rep)
    response = browser_as(rep).post(f"/tasks/{task.pk}/complete/", {"version": old}, **HTMX)
    assert "Someone else changed this task" in response.content.decode()
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN


def test_reassigning_a_task_to_a_team(browser_as, rep, customer, other_team):
    task = _tasks(rep, customer, 1, 2)[0]
    response = browser_as(rep).post(f"/tasks/{task.pk}/reassign/", {"version": task.version, "assignee_team": other_team.pk}, **HTMX)
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    task.refresh_from_db()
    assert task.assignee_team == other_team and task.assignee is None


def test_creating_a_task_for_a_customer(browser_as, rep, customer):
    response = browser_as(rep).post("/tasks/new/", {"title": "回访李先生", "priority": 2, "customer": customer.pk})
    assert response.status_code == 302
    task = Task.objects.get(title="回访李先生")
    assert task.customer == customer and task.assignee == rep


# --- Interactions ---------------------------------------------------------------------------------

def _interactions(rep, customer, n, channel="phone"):
    for i in range(n):
        engagement.log_interaction(customer=customer, channel=channel, direction="out", subject=f"{channel}{i}", actor=rep)


def test_interaction_log_query_count_does_not_grow_and_filters_by_channel(browser_as, rep, customer, django_assert_max_num_queries):
    client = browser_as(rep)
    _interactions(rep, customer, 2)
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as few:
        assert client.get("/interactions/").status_code == 200
    _interactions(rep, customer, 30, channel="visit")
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as many:
        body = client.get("/interactions/?channel=phone&q=lmh", **HTMX).content.decode()
    assert len(many.captured_queries) <= len(few.captured_queries)
    assert "phone1" in body and "visit1" not in body


def test_logging_an_interaction_needs_a_visible_customer(browser_as, rep, other_rep):
    theirs = make_customer(other_rep, name="别人的客户")
    response = browser_as(rep).post("/interactions/new/", {"customer": theirs.pk, "channel": "phone", "direction": "out",
                                                           "content_type": "information", "phase": "before", "subject": "打电话"})
    assert response.status_code == 422
    assert "Choose a customer" in response.content.decode()


# --- Products, orders, payments, receivables -------------------------------------------------------

def test_product_list_shows_margin_with_a_pinned_query_count(browser_as, rep, tea, kettle, admin_user, django_assert_max_num_queries):
    client = browser_as(rep)
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as few:
        body = client.get("/products/").content.decode()
    assert "40.00" in body and "69.55" in body  # list price − unit cost
    for i in range(20):
        sales.create_product(actor=admin_user, sku=f"P-{i}", name=f"产品{i}", list_price=Decimal("10.00"))
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as many:
        assert client.get("/products/?q=产品").status_code == 200
    assert len(many.captured_queries) <= len(few.captured_queries)


def _order(rep, customer, product, quantity=1):
    return sales.create_order(customer=customer, lines=[{"product": product, "quantity": quantity}], actor=rep)


def test_order_list_query_count_does_not_grow(browser_as, rep, customer, tea, django_assert_max_num_queries):
    client = browser_as(rep)
    _order(rep, customer, tea)
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as few:
        assert client.get("/orders/").status_code == 200
    for _i in range(25):
        _order(rep, customer, tea)
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as many:
        assert client.get("/orders/?status=confirmed").status_code == 200
    assert len(many.captured_queries) <= len(few.captured_queries)


def test_a_rep_cannot_open_another_reps_order(browser_as, rep, other_rep, tea):
    theirs = _order(other_rep, make_customer(other_rep, name="别人的客户"), tea)
    client = browser_as(rep)
    assert client.get(f"/orders/{theirs.pk}/").status_code == 404
    assert client.post(f"/orders/{theirs.pk}/payments/", {"amount": "1.00", "method": "cash"}).status_code == 404
    assert "别人的客户" not in client.get("/orders/").content.decode()


def test_entering_an_order_with_two_lines_totals_it_on_the_server(browser_as, rep, customer, tea, kettle, django_assert_max_num_queries):
    client = browser_as(rep)
    response = client.post("/orders/new/", {
        "customer": customer.pk, "status": "confirmed", "order_date": "", "promised_delivery": "", "notes": "",
        "product": [tea.pk, kettle.pk], "quantity": ["2", "1"], "unit_price": ["", "239.90"],
    })
    order = Order.objects.get(customer=customer)
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    assert order.total == Decimal("439.90") and order.lines.count() == 2
    with django_assert_max_num_queries(ORDER_MAX_QUERIES):
        body = client.get(f"/orders/{order.pk}/").content.decode()
    assert "439.90" in body


def test_order_entry_shows_errors_next_to_the_line_and_the_customer_and_keeps_the_input(browser_as, rep, customer, tea):
    client = browser_as(rep)
    response = client.post("/orders/new/", {"customer": "", "status": "confirmed",
                                            "product": [tea.pk, ""], "quantity": ["2", "1"], "unit_price": ["", "50"]})
    body = response.content.decode()
    assert response.status_code == 422
    assert "Choose a customer." in body and "Choose a product." in body
    response = client.post("/orders/new/", {"customer": customer.pk, "status": "confirmed",
                                            "product": [tea.pk], "quantity": ["-3"], "unit_price": ["99.999"]})
    body = response.content.decode()
    assert response.status_code == 422
    assert "greater than zero" in body and 'value="-3"' in body
    assert not Order.objects.exists()


def test_a_new_line_row_defaults_the_unit_price_to_the_list_price(browser_as, rep, tea):
    body = browser_as(rep).get(f"/orders/line/?product={tea.pk}&quantity=3", **HTMX).content.decode()
    assert 'value="100.00"' in body and 'value="3"' in body


def test_recording_a_payment_and_refusing_an_overpayment(browser_as, rep, customer, tea):
    order = _order(rep, customer, tea, quantity=2)  # 200.00
    client = browser_as(rep)
    assert client.post(f"/orders/{order.pk}/payments/", {"amount": "150.00", "method": "cash", "paid_on": ""}).status_code == 302
    refused = client.post(f"/orders/{order.pk}/payments/", {"amount": "60.00", "method": "cash", "paid_on": ""})
    assert refused.status_code == 422
    assert "would overpay" in refused.content.decode()
    order.refresh_from_db()
    assert order.amount_paid == Decimal("150.00")


def test_deliver_and_cancel_need_the_current_version(browser_as, rep, customer, tea):
    order = _order(rep, customer, tea)
    client = browser_as(rep)
    client.post(f"/orders/{order.pk}/deliver/", {"version": order.version - 1})
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    client.post(f"/orders/{order.pk}/deliver/", {"version": order.version})
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED


def test_receivables_age_overdue_orders_and_list_customers_over_their_limit(browser_as, rep, manager, customer, tea, django_assert_max_num_queries):
    # Given an order of 1,500.00 placed 75 days ago on net-30 terms (45 days overdue), against a limit of 1,000.00
    held = sales.create_order(customer=customer, lines=[{"product": tea, "quantity": 15}], actor=rep,
                              order_date=timezone.localdate() - datetime.timedelta(days=75))
    sales.approve_credit(order=held, actor=manager, expected_version=held.version)  # a manager granted the credit
    client = browser_as(rep)
    with django_assert_max_num_queries(ORDER_MAX_QUERIES):
        body = client.get("/receivables/").content.decode()
    assert "31-60" in body and ">45<" in body
    assert "李明华" in body and "1,500.00" in body


def test_a_read_only_analyst_sees_the_pipeline_and_orders_but_cannot_change_them(browser_as, rep, analyst, customer, tea):
    deal = _deals(rep, 1)[0]
    _order(rep, customer, tea)
    client = browser_as(analyst)
    board = client.get("/pipeline/").content.decode()
    assert deal.title in board and 'data-can-move="0"' in board and "deal-move" not in board
    moved = client.post(f"/pipeline/{deal.pk}/move/", {"stage": _stage("Qualified").pk, "version": deal.version}, **HTMX)
    assert moved.status_code == 403
    assert Opportunity.objects.get(pk=deal.pk).stage.name == "Lead"
    orders = client.get("/orders/").content.decode()
    assert "李明华" in orders and "/orders/new/" not in orders
    assert client.get("/orders/new/").status_code == 403


def test_in_chinese_the_lost_stage_reads_as_a_lost_deal_not_a_lost_customer(rep):
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(rep)
    body = client.get("/pipeline/").content.decode()
    assert "输单" in body and "赢单" in body
    assert "流失客户" not in body


def test_an_order_line_entered_with_a_batch_shows_it_on_the_order(browser_as, rep, customer, tea):
    client = browser_as(rep)
    client.post("/orders/new/", {"customer": customer.pk, "status": "confirmed", "order_date": "", "promised_delivery": "",
                                 "notes": "", "product": [tea.pk], "quantity": ["1"], "unit_price": [""], "batch": [" L-0315 "]})
    order = Order.objects.get(customer=customer)
    assert order.lines.get().batch == "L-0315"
    assert "batch L-0315" in client.get(f"/orders/{order.pk}/").content.decode()


def test_an_over_long_batch_is_shown_on_its_line_and_the_input_kept(browser_as, rep, customer, tea):
    response = browser_as(rep).post("/orders/new/", {"customer": customer.pk, "status": "confirmed", "product": [tea.pk],
                                                     "quantity": ["1"], "unit_price": [""], "batch": ["L" * 41]})
    body = response.content.decode()
    assert response.status_code == 422
    assert "At most 40 characters." in body and f'value="{"L" * 41}"' in body
    assert not Order.objects.exists()
