"""Insights API: scores, scoring runs, warnings, look-alikes and exports — each behind visibility."""

from decimal import Decimal

import pytest
from django_tasks_db.models import DBTaskResult

from guanxi.insights import services
from guanxi.insights.models import CustomerExport, ScoringRun, Warning
from tests.factories import make_customer
from tests.insights.conftest import AS_OF, buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(shop, manager):
    return services.run_scoring(as_of=AS_OF, actor=manager)


def test_a_rep_lists_only_the_scores_of_their_own_customers(scored, shop, rep, api_as):
    response = api_as(rep).get("/scores", limit=500)
    assert response.status_code == 200
    ids = {item["customer"]["id"] for item in response.json()["items"]}
    assert ids == {c.pk for c in shop if c.owner_id == rep.pk}


def test_scores_filter_by_grade(scored, admin_user, api_as):
    items = api_as(admin_user).get("/scores", grade="key", limit=500).json()["items"]
    assert items and {i["grade"] for i in items} == {"key"}


def test_a_customers_scores_come_with_grade_history_policy_and_value(scored, shop, rep, api_as):
    body = api_as(rep).get(f"/customers/{shop[0].pk}/scores").json()
    assert body["current"]["customer"]["id"] == shop[0].pk
    assert body["grade_history"][0]["grade"] == body["current"]["grade"]
    assert body["policy"]["grade"] == body["current"]["grade"]
    assert Decimal(body["relationship_value"]["margin_to_date"]) == Decimal(body["current"]["profit"])


def test_another_reps_customer_scores_are_not_found(scored, shop, rep, api_as):
    theirs = next(c for c in shop if c.owner_id != rep.pk)
    assert api_as(rep).get(f"/customers/{theirs.pk}/scores").status_code == 404


def test_a_manager_starts_a_scoring_run_which_is_queued_on_the_bulk_queue(shop, manager, api_as):
    response = api_as(manager).post("/scoring-runs", {"as_of": AS_OF.isoformat()})
    assert response.status_code == 202
    run = response.json()
    assert run["status"] == "running" and run["progress"] == 0
    assert DBTaskResult.objects.filter(queue_name="bulk").count() == 1
    assert api_as(manager).get(f"/scoring-runs/{run['id']}").json()["id"] == run["id"]


def test_a_sales_rep_may_not_start_a_scoring_run(shop, rep, api_as):
    assert api_as(rep).post("/scoring-runs", {}).status_code == 403
    assert not ScoringRun.objects.exists()


def test_a_second_run_while_one_is_running_is_refused(shop, manager, api_as):
    api_as(manager).post("/scoring-runs", {})
    assert api_as(manager).post("/scoring-runs", {}).status_code == 422


@pytest.fixture
def credit_warnings(rep, other_rep, catalogue):
    """One credit warning on a customer of each rep."""
    for owner in (rep, other_rep):
        customer = make_customer(owner, credit_limit=Decimal("100.00"))
        buy(customer, owner, catalogue["tea"], AS_OF, quantity=2, paid=False)
    services.evaluate_warnings(as_of=AS_OF, kinds=["credit_limit"])
    return Warning.objects.all()


def test_a_rep_sees_only_warnings_on_their_customers(credit_warnings, rep, api_as):
    items = api_as(rep).get("/warnings").json()["items"]
    assert [i["id"] for i in items] == [credit_warnings.get(customer__owner=rep).pk]


def test_a_rep_acknowledges_and_resolves_their_warning_through_the_api(credit_warnings, rep, api_as):
    mine = credit_warnings.get(customer__owner=rep)
    client = api_as(rep)
    assert client.post(f"/warnings/{mine.pk}/acknowledge", {"note": "在跟进"}).json()["status"] == "acknowledged"
    assert client.post(f"/warnings/{mine.pk}/resolve", {"note": ""}).status_code == 422
    assert client.post(f"/warnings/{mine.pk}/resolve", {"note": "已收款"}).json()["status"] == "resolved"


def test_another_reps_warning_is_not_found(credit_warnings, rep, api_as):
    theirs = credit_warnings.exclude(customer__owner=rep).get()
    assert api_as(rep).post(f"/warnings/{theirs.pk}/acknowledge", {"note": ""}).status_code == 404
    assert api_as(rep).get(f"/warnings/{theirs.pk}").status_code == 404


def test_product_lookalikes_rank_a_planted_similar_customer_first(rep, admin_user, catalogue, api_as):
    # Given buyers of the kettle who also buy tea and cups, a twin of them who has not bought a kettle,
    # and a customer who buys only the banquet
    for _ in range(3):
        buyer = make_customer(rep)
        for product in ("tea", "cup", "kettle"):
            buy(buyer, rep, catalogue[product], AS_OF)
    twin = make_customer(rep, name="相似客户")
    for product in ("tea", "cup"):
        buy(twin, rep, catalogue[product], AS_OF)
    half = make_customer(rep, name="只买茶")
    buy(half, rep, catalogue["tea"], AS_OF)
    other = make_customer(rep, name="婚宴")
    buy(other, rep, catalogue["banquet"], AS_OF)
    # When the kettle's look-alikes are asked for
    body = api_as(admin_user).get(f"/products/{catalogue['kettle'].pk}/lookalikes").json()
    # Then the twin comes first, the tea-only buyer next, and the banquet customer not at all
    assert [i["customer"]["id"] for i in body] == [twin.pk, half.pk]


def test_lookalikes_leave_out_customers_the_user_cannot_see(rep, other_rep, catalogue, api_as):
    buyer = make_customer(rep)
    buy(buyer, rep, catalogue["tea"], AS_OF)
    buy(buyer, rep, catalogue["kettle"], AS_OF)
    hidden = make_customer(other_rep)
    buy(hidden, other_rep, catalogue["tea"], AS_OF)
    assert api_as(rep).get(f"/products/{catalogue['kettle'].pk}/lookalikes").json() == []
    assert api_as(other_rep).get(f"/products/{catalogue['kettle'].pk}/lookalikes").json()[0]["customer"]["id"] == hidden.pk


def test_an_unknown_product_has_no_lookalikes(rep, api_as):
    assert api_as(rep).get("/products/999999/lookalikes").status_code == 404


def test_a_sales_rep_may_not_export_customers(shop, rep, api_as):
    response = api_as(rep).get("/exports/customers", fmt="csv")
    assert response.status_code == 403
    assert not CustomerExport.objects.exists()


def test_a_managers_export_streams_their_visible_customers_and_is_recorded(shop, manager, rep, api_as):
    response = api_as(manager).get("/exports/customers", fmt="csv", owner=rep.pk)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    expected = [c for c in shop if c.owner_id == rep.pk]
    assert len(lines) == 1 + len(expected) and "客户00" in lines[1]
    record = CustomerExport.objects.get()
    assert (record.user, record.rows, record.filters, record.flagged) == (manager, len(expected), {"owner": rep.pk}, False)


def test_an_xlsx_export_opens_in_a_spreadsheet(shop, admin_user, api_as):
    import io

    from openpyxl import load_workbook

    response = api_as(admin_user).get("/exports/customers", fmt="xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.max_row == 1 + len(shop)


@pytest.mark.parametrize(("allowed_extra", "flagged"), [(0, False), (-1, True)])
def test_an_export_above_the_allowed_volume_is_flagged_to_administrators(shop, admin_user, manager, rep, api_as,
                                                                        allowed_extra, flagged):
    # Given a per-export limit of exactly (or one less than) the rows the manager can see
    from guanxi.insights.models import WarningRule

    visible = sum(1 for c in shop if c.owner_id == rep.pk)
    WarningRule.objects.filter(kind="export_volume").update(
        parameters={"rows_per_export": visible + allowed_extra, "rows_per_day": 10**6})
    # When the manager exports every customer they can see
    b"".join(api_as(manager).get("/exports/customers").streaming_content)
    # Then only an export above the limit is flagged, in a warning for administrators alone
    assert CustomerExport.objects.get().flagged is flagged
    warnings = api_as(admin_user).get("/warnings", kind="export_volume").json()["items"]
    assert len(warnings) == int(flagged) and all(w["assignee"] is None for w in warnings)
    assert api_as(manager).get("/warnings", kind="export_volume").json()["items"] == []


@pytest.mark.parametrize("path", ["/scores", "/warnings", "/scoring-runs"])
def test_list_pages_take_a_constant_number_of_queries(scored, credit_warnings, admin_user, api_as, path,
                                                      django_assert_max_num_queries):
    client = api_as(admin_user)
    with django_assert_max_num_queries(8):
        small = client.get(path, limit=2)
    with django_assert_max_num_queries(8):
        large = client.get(path, limit=200)
    assert small.status_code == large.status_code == 200
