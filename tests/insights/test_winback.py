"""Lost customers: the reason category on the move to lost, one win-back per lost episode, won back
on the next billed order or a return to current, given up with a note, success figures, visibility."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from guanxi.customers import services as customer_services
from guanxi.customers.models import StateChange
from guanxi.engagement.models import Task
from guanxi.insights import selectors, services
from guanxi.insights.models import WinBack
from guanxi.sales import services as sales
from tests.factories import make_customer
from tests.insights.conftest import buy

pytestmark = pytest.mark.django_db

LOST_ON = datetime.date(2026, 3, 2)


def lose(customer, actor, *, category="price", reason="", on=LOST_ON):
    """Given the customer was moved to lost on `on` (the move is backdated: change_state stamps now)."""
    customer_services.change_state(customer=customer, to="lost", reason=reason, reason_category=category, actor=actor)
    change = StateChange.objects.filter(customer=customer, to_state="lost").latest("changed_at", "pk")
    when = timezone.make_aware(datetime.datetime.combine(on, datetime.time(10, 0)))
    StateChange.objects.filter(pk=change.pk).update(changed_at=when)
    WinBack.objects.filter(lost_change=change).update(lost_on=on)
    return WinBack.objects.get(lost_change=change)


def current_customer(owner, catalogue, name="老客户"):
    customer = make_customer(owner, name=name, state="current")
    buy(customer, owner, catalogue["tea"], LOST_ON - datetime.timedelta(days=200))
    return customer


# --- the reason category ----------------------------------------------------------------------------

def test_moving_a_customer_to_lost_stores_the_reason_category_beside_the_text(rep):
    customer = make_customer(rep, state="current")
    customer_services.change_state(customer=customer, to="lost", reason="对方报价低 8%", reason_category="competitor", actor=rep)
    change = customer.state_changes.first()
    assert (change.to_state, change.reason_category, change.reason) == ("lost", "competitor", "对方报价低 8%")


@pytest.mark.parametrize("category", ["", "cheaper"])
def test_a_move_to_lost_without_a_known_category_is_refused_and_nothing_changes(rep, category):
    customer = make_customer(rep, state="current")
    with pytest.raises(ValidationError) as error:
        customer_services.change_state(customer=customer, to="lost", reason="价格", reason_category=category, actor=rep)
    assert "reason_category" in error.value.message_dict
    customer.refresh_from_db()
    assert customer.state == "current" and not WinBack.objects.exists()


def test_other_needs_the_free_text(rep):
    customer = make_customer(rep, state="current")
    with pytest.raises(ValidationError) as error:
        customer_services.change_state(customer=customer, to="lost", reason="", reason_category="other", actor=rep)
    assert "reason" in error.value.message_dict


# --- one win-back per lost episode ------------------------------------------------------------------

def test_a_move_to_lost_opens_one_win_back_for_the_owner_with_the_reason(rep, catalogue):
    customer = current_customer(rep, catalogue)
    winback = lose(customer, rep, category="service", reason="售后响应慢")
    assert (winback.status, winback.owner, winback.reason_category, winback.lost_on) == ("open", rep, "service", LOST_ON)
    assert services.open_missing_winbacks() == 0  # the daily job finds nothing left to open
    assert WinBack.objects.count() == 1


def test_each_lost_episode_gets_its_own_win_back_and_the_earlier_one_ends(rep, catalogue):
    customer = current_customer(rep, catalogue)
    first = lose(customer, rep)
    customer_services.change_state(customer=customer, to="target", reason="重新接触", actor=rep)
    second = lose(customer, rep, category="competitor", on=LOST_ON + datetime.timedelta(days=40))
    first.refresh_from_db()
    assert first.status == "given_up" and second.status == "open"
    assert WinBack.objects.filter(customer=customer).count() == 2


def test_moves_to_lost_written_in_bulk_get_their_win_back_once(rep):
    customer = make_customer(rep, state="lost", reason="导入")  # created as lost: no change_state
    assert not WinBack.objects.exists()
    assert services.open_missing_winbacks() == 1
    assert services.open_missing_winbacks() == 0
    assert WinBack.objects.get().customer == customer


# --- starting, winning back, giving up ------------------------------------------------------------------

def test_starting_a_win_back_opens_a_task_with_the_steps_for_the_owner(rep, manager, catalogue):
    customer = current_customer(rep, catalogue)
    winback = lose(customer, rep, category="price", reason="嫌贵")
    started = services.start_winback(winback=winback, actor=manager)
    task = started.task
    assert started.status == "in_progress" and started.started_by == manager
    assert task.assignee == rep and task.customer == customer and task.status == "open"
    assert "1." in task.description and "4." in task.description and "Price" in task.description and "嫌贵" in task.description
    with pytest.raises(ValidationError):
        services.start_winback(winback=started, actor=manager)
    assert Task.objects.filter(customer=customer).count() == 1


def test_the_next_billed_order_after_the_lost_date_wins_the_customer_back(rep, catalogue):
    customer = current_customer(rep, catalogue)
    winback = services.start_winback(winback=lose(customer, rep), actor=rep)
    buy(customer, rep, catalogue["tea"], LOST_ON - datetime.timedelta(days=1))  # before the loss: not a return
    buy(customer, rep, catalogue["tea"], LOST_ON)  # the day of the loss: not after it either
    assert services.detect_won_back(as_of=LOST_ON + datetime.timedelta(days=60)) == 0
    order = buy(customer, rep, catalogue["kettle"], LOST_ON + datetime.timedelta(days=30), quantity=2)
    assert services.detect_won_back(as_of=LOST_ON + datetime.timedelta(days=60)) == 1
    winback.refresh_from_db()
    assert (winback.status, winback.outcome, winback.ended_on, winback.won_back_order) == ("won_back", "order", order.order_date, order)
    assert winback.days_to_win_back == 30
    assert Task.objects.get(pk=winback.task_id).status == "done"
    assert services.detect_won_back(as_of=LOST_ON + datetime.timedelta(days=60)) == 0  # exactly once


@pytest.mark.parametrize("status", ["draft", "cancelled"])
def test_a_draft_or_cancelled_order_does_not_win_anyone_back(rep, catalogue, status):
    customer = current_customer(rep, catalogue)
    winback = lose(customer, rep)
    order = sales.create_order(customer=customer, lines=[{"product": catalogue["tea"]}], actor=rep,
                               order_date=LOST_ON + datetime.timedelta(days=5), status="draft")
    if status == "cancelled":
        sales.cancel_order(order=order, actor=rep, expected_version=order.version)
    assert services.detect_won_back(as_of=LOST_ON + datetime.timedelta(days=60)) == 0
    winback.refresh_from_db()
    assert winback.status == "open"


def test_moving_the_customer_back_to_current_wins_them_back(rep, catalogue):
    customer = current_customer(rep, catalogue)
    winback = lose(customer, rep)
    customer_services.change_state(customer=customer, to="current", reason="重新合作", actor=rep)
    winback.refresh_from_db()
    assert (winback.status, winback.outcome, winback.ended_on) == ("won_back", "state", timezone.localdate())


def test_a_confirmed_order_wins_the_customer_back_as_soon_as_it_commits(rep, catalogue, django_capture_on_commit_callbacks):
    customer = current_customer(rep, catalogue)
    winback = lose(customer, rep, on=timezone.localdate() - datetime.timedelta(days=10))
    with django_capture_on_commit_callbacks(execute=True):
        sales.create_order(customer=customer, lines=[{"product": catalogue["tea"]}], actor=rep)
    winback.refresh_from_db()
    assert winback.status == "won_back"


def test_giving_up_needs_a_note_ends_the_win_back_and_cancels_its_task(rep, catalogue):
    customer = current_customer(rep, catalogue)
    winback = services.start_winback(winback=lose(customer, rep), actor=rep)
    with pytest.raises(ValidationError):
        services.give_up_winback(winback=winback, actor=rep, note=" ")
    ended = services.give_up_winback(winback=winback, actor=rep, note="客户已被收购，不再采购")
    assert (ended.status, ended.note, ended.ended_on) == ("given_up", "客户已被收购，不再采购", timezone.localdate())
    assert Task.objects.get(pk=winback.task_id).status == "cancelled"
    buy(customer, rep, catalogue["tea"], LOST_ON + datetime.timedelta(days=3))
    assert services.detect_won_back(as_of=LOST_ON + datetime.timedelta(days=30)) == 0  # a closed episode stays closed


def test_a_rep_cannot_start_or_give_up_another_reps_win_back(rep, other_rep, analyst, catalogue):
    winback = lose(current_customer(rep, catalogue), rep)
    with pytest.raises(WinBack.DoesNotExist):
        services.start_winback(winback=winback, actor=other_rep)
    with pytest.raises(PermissionDenied):
        services.give_up_winback(winback=winback, actor=analyst, note="看不到")


def test_the_lost_warning_starts_the_episodes_win_back_instead_of_a_second_task(rep, catalogue):
    customer = current_customer(rep, catalogue)
    customer_services.change_state(customer=customer, to="lost", reason="", reason_category="need_ended", actor=rep)
    assert services.evaluate_warnings(as_of=timezone.localdate(), kinds=["lost"]) == {"lost": 1}
    winback = WinBack.objects.get(customer=customer)
    assert winback.status == "in_progress" and winback.task.assignee == rep
    assert Task.objects.filter(customer=customer).count() == 1


# --- success figures ----------------------------------------------------------------------------------

@pytest.fixture
def planted(rep, other_rep, catalogue):
    """Six lost customers, worked out by hand:
    rep:   A price, started, won back after 10 days with 100 + 250 (a second order) → revenue 350
           B price, started, given up
           C service, started, won back after 30 days with 40 → revenue 40
           D price, never started, came back unprompted after 5 days with 100
    other: E competitor, started, still in progress
           F competitor, started, won back after 20 days with 500
    Started 5, won back after a win-back 3 → rate 60%; median days (10, 20, 30) = 20; revenue 890.
    """
    tea, kettle, cup = catalogue["tea"], catalogue["kettle"], catalogue["cup"]
    day = datetime.timedelta(days=1)
    made = {}
    for key, owner, category in [("A", rep, "price"), ("B", rep, "price"), ("C", rep, "service"), ("D", rep, "price"),
                                 ("E", other_rep, "competitor"), ("F", other_rep, "competitor")]:
        made[key] = lose(current_customer(owner, catalogue, name=f"流失{key}"), owner, category=category)
        if key != "D":
            services.start_winback(winback=made[key], actor=owner)
    services.give_up_winback(winback=made["B"], actor=rep, note="倒闭")
    buy(made["A"].customer, rep, tea, LOST_ON + 10 * day)
    buy(made["A"].customer, rep, kettle, LOST_ON + 40 * day)
    buy(made["C"].customer, rep, cup, LOST_ON + 30 * day)
    buy(made["D"].customer, rep, tea, LOST_ON + 5 * day)
    buy(made["F"].customer, other_rep, tea, LOST_ON + 20 * day, quantity=5)
    services.refresh_winbacks(as_of=LOST_ON + 60 * day)
    return made


def test_success_per_reason_is_computed_as_worked_out_by_hand(planted, admin_user):
    rows = {r.key: r for r in selectors.winback_success(admin_user, by="reason")}
    price, service, competitor = rows["price"], rows["service"], rows["competitor"]
    assert (price.lost, price.attempted, price.won_back, price.unprompted) == (3, 2, 1, 1)
    assert price.rate == 0.5 and price.median_days == 10 and price.revenue_regained == Decimal("350.00")
    assert (service.lost, service.attempted, service.won_back, service.rate) == (1, 1, 1, 1.0)
    assert (competitor.lost, competitor.attempted, competitor.won_back, competitor.median_days) == (2, 2, 1, 20)
    assert competitor.revenue_regained == Decimal("500.00")


def test_success_totals_and_per_owner(planted, admin_user, rep):
    rows = selectors.winback_success(admin_user, by="owner")
    total = selectors.winback_totals(admin_user)
    assert (total.lost, total.attempted, total.won_back, total.unprompted) == (6, 5, 3, 1)
    assert total.rate == 0.6 and total.median_days == 20 and total.revenue_regained == Decimal("890.00")
    by_owner = {r.key: r for r in rows}
    assert (by_owner[rep.pk].attempted, by_owner[rep.pk].won_back) == (3, 2)


def test_a_rep_sees_only_their_own_lost_customers_and_figures(planted, rep, other_rep):
    assert {w.customer.name for w in selectors.winbacks(other_rep)} == {"流失E", "流失F"}
    total = selectors.winback_totals(other_rep)
    assert (total.lost, total.attempted, total.won_back) == (2, 2, 1)
    reasons = {r["reason"]: r["lost"] for r in selectors.lost_reasons(other_rep)}
    assert reasons["competitor"] == 2 and reasons["price"] == 0


def test_the_reasons_breakdown_counts_every_category(planted, admin_user):
    rows = {r["reason"]: r for r in selectors.lost_reasons(admin_user)}
    assert (rows["price"]["lost"], rows["price"]["won_back"], rows["price"]["share"]) == (3, 2, 50)
    assert rows["moved_closed"]["lost"] == 0


# --- the page ----------------------------------------------------------------------------------------

def signed_in(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_lost_page_shows_reasons_success_and_links_every_count_to_its_customers(planted, admin_user):
    response = signed_in(admin_user).get("/insights/lost/?by=reason")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="chart-reasons-data"' in html and 'data-chart="chart-reasons-data"' in html
    assert "/insights/lost/?reason=price#lost-list" in html
    assert "/insights/lost/?reason=competitor&amp;outcome=won_back#lost-list" in html
    assert response.context["totals"].rate_percent == 60
    listed = signed_in(admin_user).get("/insights/lost/?reason=competitor&outcome=won_back")
    assert [w.customer.name for w in listed.context["page"].rows] == ["流失F"]


def test_a_rep_sees_only_their_own_lost_customers_on_the_page(planted, other_rep):
    response = signed_in(other_rep).get("/insights/lost/")
    assert {w.customer.name for w in response.context["page"].rows} == {"流失E", "流失F"}
    assert "流失A" not in response.content.decode()
    assert response.context["totals"].lost == 2


def test_a_manager_starts_a_win_back_from_the_page(rep, manager, catalogue):
    winback = lose(current_customer(rep, catalogue, name="王家"), rep)
    client = signed_in(manager)
    assert b"Start win-back" in client.get("/insights/lost/").content
    response = client.post(f"/insights/lost/{winback.pk}/start/", {"next": "/insights/lost/?status=open"})
    assert response.status_code == 302 and response["Location"] == "/insights/lost/?status=open"
    winback.refresh_from_db()
    assert winback.status == "in_progress" and winback.task.assignee == rep


def test_giving_up_from_the_page_asks_for_a_note_first(rep, catalogue):
    winback = lose(current_customer(rep, catalogue), rep)
    client = signed_in(rep)
    dialog = client.get(f"/insights/lost/{winback.pk}/give-up/", headers={"HX-Request": "true"})
    assert b"Give up winning back" in dialog.content and b"<html" not in dialog.content
    refused = client.post(f"/insights/lost/{winback.pk}/give-up/", {"note": ""}, headers={"HX-Request": "true"})
    assert b"Say why" in refused.content and WinBack.objects.get(pk=winback.pk).status == "open"
    done = client.post(f"/insights/lost/{winback.pk}/give-up/", {"note": "已转行"}, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"
    winback.refresh_from_db()
    assert (winback.status, winback.note) == ("given_up", "已转行")


def test_another_reps_win_back_is_a_404(rep, other_rep, catalogue):
    winback = lose(current_customer(rep, catalogue), rep)
    client = signed_in(other_rep)
    assert client.post(f"/insights/lost/{winback.pk}/start/").status_code == 404
    assert client.get(f"/insights/lost/{winback.pk}/give-up/").status_code == 404


def test_the_lost_page_without_any_loss_says_so(rep):
    html = signed_in(rep).get("/insights/lost/").content.decode()
    assert "No lost customers" in html


@pytest.mark.parametrize("path", ["/insights/lost/", "/insights/lost/?by=owner", "/insights/lost/?by=reason", "/insights/lost/at-risk/"])
def test_the_lost_pages_take_a_constant_number_of_queries(rep, other_rep, admin_user, catalogue, path,
                                                          django_assert_max_num_queries):
    for index in range(3):
        winback = lose(current_customer(rep if index % 2 else other_rep, catalogue, name=f"少{index}"), rep if index % 2 else other_rep)
        services.start_winback(winback=winback, actor=admin_user)
    client = signed_in(admin_user)
    client.get(path)
    with django_assert_max_num_queries(16) as few:
        assert client.get(path).status_code == 200
    for index in range(12):
        owner = rep if index % 2 else other_rep
        winback = lose(current_customer(owner, catalogue, name=f"多{index}"), owner, category=["price", "service", "other"][index % 3],
                       reason="说明", on=LOST_ON - datetime.timedelta(days=40 * index))
        if index % 3:
            services.start_winback(winback=winback, actor=admin_user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(path).status_code == 200


# --- the API -------------------------------------------------------------------------------------------

def test_the_api_lists_lost_customers_with_their_reasons(planted, api_as, other_rep):
    body = api_as(other_rep).get("/winbacks").json()
    assert body["count"] == 2
    assert {(i["customer"]["name"], i["reason_category"], i["status"]) for i in body["items"]} == {
        ("流失E", "competitor", "in_progress"), ("流失F", "competitor", "won_back")}


def test_the_api_gives_win_back_stats_per_reason(planted, api_as, admin_user):
    body = api_as(admin_user).get("/winbacks/stats", by="reason").json()
    assert body["total"]["rate"] == 0.6 and body["total"]["median_days"] == 20
    assert body["total"]["revenue_regained"] == "890.00"
    price = next(r for r in body["rows"] if r["key"] == "price")
    assert (price["lost"], price["attempted"], price["won_back"], price["unprompted"]) == (3, 2, 1, 1)


def test_the_api_starts_and_gives_up_a_win_back(rep, api_as, catalogue):
    winback = lose(current_customer(rep, catalogue), rep)
    client = api_as(rep)
    assert client.post(f"/winbacks/{winback.pk}/start").json()["status"] == "in_progress"
    assert client.post(f"/winbacks/{winback.pk}/start").status_code == 422
    assert client.post(f"/winbacks/{winback.pk}/give-up", {"note": ""}).status_code == 422
    ended = client.post(f"/winbacks/{winback.pk}/give-up", {"note": "不再需要"}).json()
    assert (ended["status"], ended["note"]) == ("given_up", "不再需要")


def test_the_api_hides_another_reps_win_back(rep, other_rep, api_as, catalogue):
    winback = lose(current_customer(rep, catalogue), rep)
    assert api_as(other_rep).post(f"/winbacks/{winback.pk}/start").status_code == 404
    assert api_as(other_rep).get("/winbacks").json()["count"] == 0


def test_administrators_read_win_backs_in_the_admin(planted, admin_user):
    response = signed_in(admin_user).get("/admin/insights/winback/?status__exact=won_back")
    assert response.status_code == 200
    assert "流失F" in response.content.decode() and "流失B" not in response.content.decode()


# --- at risk --------------------------------------------------------------------------------------------

def test_at_risk_lists_low_p_alive_and_warned_customers_not_yet_lost_most_valuable_first(shop, rep, admin_user):
    from guanxi.insights.models import CustomerScore, Warning
    from tests.insights.conftest import AS_OF

    services.run_scoring(as_of=AS_OF, actor=admin_user)
    scores = CustomerScore.objects.filter(run__is_current=True, p_alive__isnull=False)
    low = set(scores.filter(p_alive__lt=0.3).values_list("customer_id", flat=True))
    assert low
    warned = scores.filter(p_alive__gte=0.5).first().customer
    Warning.objects.create(kind="churn_risk", key=f"c{warned.pk}:test", customer=warned, assignee=warned.owner, message="流失风险")
    rows = list(selectors.at_risk_customers(admin_user))
    assert {r.customer_id for r in rows} == low | {warned.pk}
    assert [r.profit for r in rows] == sorted((r.profit for r in rows), reverse=True)
    gone = next(iter(low))
    customer_services.change_state(customer=rows[0].customer.__class__.objects.get(pk=gone), to="lost", reason="",
                                   reason_category="price", actor=admin_user)
    assert gone not in {r.customer_id for r in selectors.at_risk_customers(admin_user)}
    assert all(r.customer.owner_id == rep.pk for r in selectors.at_risk_customers(rep))
