"""Insights charts, grade moves and KPIs pages: every chart number equals its table row and the
number of customers its link lists; filters; empty states; what a rep sees; query counts."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.test import Client

from guanxi.insights import selectors, services
from guanxi.insights.models import CustomerScore, GradeHistory, ScoringRun, Warning
from tests.factories import make_customer
from tests.insights.conftest import AS_OF

pytestmark = pytest.mark.django_db


def signed_in(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # the assertions read the English text
    client.force_login(user)
    return client


def chart_data(html: str) -> dict:
    """The json_script blocks charts.js draws, by chart key."""
    blocks = re.findall(r'<script id="chart-(\w+)-data" type="application/json">(.*?)</script>', html, re.S)
    return {key: json.loads(body) for key, body in blocks}


def listed(client, url: str) -> int:
    """How many rows the page a chart number links to counts."""
    page = client.get(url)
    assert page.status_code == 200, url
    return page.context["page"].count


@pytest.fixture
def scored(shop, manager):
    return services.run_scoring(as_of=AS_OF, actor=manager)


def test_every_pyramid_number_is_its_table_row_and_links_to_exactly_those_customers(scored, admin_user):
    client = signed_in(admin_user)
    page = client.get("/insights/")
    spec = chart_data(page.content.decode())["pyramid"]
    table = {row["label"]: row for row in page.context["charts"]["pyramid"]}
    for row in spec["rows"]:
        assert row["customers"] == table[row["label"]]["customers"] == listed(client, row["url"])
    assert sum(r["customers"] for r in spec["rows"]) == CustomerScore.objects.filter(run=scored).count()


def test_without_javascript_every_chart_table_is_open(scored, admin_user):
    html = signed_in(admin_user).get("/insights/").content.decode()
    charts = re.findall(r'data-chart="chart-(\w+)-data"', html)
    assert set(charts) >= {"pyramid", "heatmap", "value", "behaviour", "clv", "stages"}
    assert html.count("<details open data-chart-table>") == len(charts)


def test_every_rfm_cell_row_and_column_links_to_the_customers_it_counts(scored, admin_user):
    client = signed_in(admin_user)
    page = client.get("/insights/")
    spec = chart_data(page.content.decode())["heatmap"]
    heatmap = page.context["charts"]["heatmap"]
    cells = [c for c in spec["cells"] if c["value"]]
    assert cells
    for cell in cells:
        assert cell["value"] == listed(client, cell["url"])
    for row in heatmap["rows"]:
        assert row["customers"] == listed(client, row["url"]) == sum(c["customers"] for c in row["cells"])
    for column in heatmap["columns"]:
        assert column["customers"] == listed(client, column["url"])
    assert sum(c["value"] for c in spec["cells"]) == heatmap["customers"] == CustomerScore.objects.filter(run=scored).count()


def test_rfm_cells_carry_the_average_revenue_of_their_customers(scored, admin_user):
    heatmap = signed_in(admin_user).get("/insights/").context["charts"]["heatmap"]
    cell = next(c for r in heatmap["rows"] for c in r["cells"] if c["customers"])
    revenue = [s.revenue for s in CustomerScore.objects.filter(run=scored, recency_score=cell["r"], frequency_score=cell["f"])]
    assert cell["average_revenue"] == (sum(revenue) / len(revenue)).quantize(Decimal("0.01"))


@pytest.mark.parametrize("key", ["value", "behaviour", "stages"])
def test_every_matrix_and_stage_count_links_to_exactly_those_customers(scored, admin_user, key):
    client = signed_in(admin_user)
    page = client.get("/insights/")
    rows = page.context["charts"][key]
    assert sum(r["customers"] for r in rows) == CustomerScore.objects.filter(run=scored).count()
    for row in rows:
        assert row["customers"] == listed(client, row["url"])
    spec = chart_data(page.content.decode())[key]
    charted = spec["cells"] if key != "stages" else spec["rows"]
    assert sorted(c["value"] for c in charted) == sorted(r["customers"] for r in rows)


def test_the_value_matrix_sums_profit_per_quadrant(scored, admin_user):
    rows = {r["segment"]: r for r in signed_in(admin_user).get("/insights/").context["charts"]["value"]}
    best = CustomerScore.objects.filter(run=scored, value_segment="best")
    assert rows["best"]["profit"] == sum((s.profit for s in best), Decimal("0.00"))


def test_every_clv_bucket_links_to_exactly_its_customers_and_the_buckets_hold_everyone(scored, admin_user):
    client = signed_in(admin_user)
    page = client.get("/insights/")
    clv = page.context["charts"]["clv"]
    spec = chart_data(page.content.decode())["clv"]
    assert [r["value"] for r in spec["rows"]] == [b["customers"] for b in clv["buckets"]]
    for bucket in clv["buckets"]:
        assert bucket["customers"] == listed(client, bucket["url"])
    scores = CustomerScore.objects.filter(run=scored)
    assert clv["customers"] == scores.filter(clv__isnull=False).count()
    assert clv["without_clv"] == scores.filter(clv__isnull=True).count() >= 1  # the banquet-only customer


def test_clv_buckets_are_the_stretch_of_edges_the_data_occupies(rep, scored):
    CustomerScore.objects.filter(run=scored).update(clv=None)
    CustomerScore.objects.filter(run=scored, customer__name="客户00").update(clv=Decimal("150.00"))
    CustomerScore.objects.filter(run=scored, customer__name="客户02").update(clv=Decimal("2500.00"))
    buckets = selectors.clv_distribution(rep)["buckets"]
    assert [(b["low"], b["high"], b["customers"]) for b in buckets] == [
        (Decimal(100), Decimal(200), 1), (Decimal(200), Decimal(500), 0), (Decimal(500), Decimal(1000), 0),
        (Decimal(1000), Decimal(2000), 0), (Decimal(2000), None, 1)]


def test_the_warnings_overview_counts_open_and_acknowledged_per_kind_and_links_to_the_inbox(rep, other_rep):
    for index in range(3):
        customer = make_customer(rep, name=f"欠款{index}")
        Warning.objects.create(kind="credit_limit", key=f"c{index}", customer=customer, assignee=rep, message="over the limit")
    Warning.objects.create(kind="churn_risk", key="other", customer=make_customer(other_rep), assignee=other_rep, message="not mine")
    services.acknowledge_warning(warning=Warning.objects.get(key="c0"), actor=rep, note="")
    client = signed_in(rep)
    page = client.get("/insights/")
    rows = page.context["warnings_chart"]["rows"]
    assert [(r["kind"], r["open"], r["acknowledged"]) for r in rows] == [("credit_limit", 2, 1)]
    assert listed(client, rows[0]["open_url"]) == 2 and listed(client, rows[0]["acknowledged_url"]) == 1
    assert chart_data(page.content.decode())["warnings"]["rows"][0]["value"] == 2


def test_before_any_run_the_page_says_so_and_draws_no_score_charts(rep):
    page = signed_in(rep).get("/insights/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "No charts yet" in html and "pyramid" not in chart_data(html)


def test_a_rep_sees_the_figures_of_their_own_customers_only(scored, rep, other_rep):
    client = signed_in(rep)
    page = client.get("/insights/")
    mine = CustomerScore.objects.filter(run=scored, customer__owner=rep).count()
    assert sum(r["customers"] for r in page.context["charts"]["pyramid"]) == mine
    assert page.context["charts"]["heatmap"]["customers"] == mine
    assert page.context["owners"] is None  # no owner to choose
    # An owner filter in a link cannot widen what a rep sees.
    assert listed(client, f"/insights/scores/?owner={other_rep.pk}") == 0


def test_a_manager_narrows_the_charts_to_one_rep(scored, manager, rep):
    client = signed_in(manager)
    page = client.get(f"/insights/?owner={rep.pk}")
    rows = page.context["charts"]["pyramid"]
    assert sum(r["customers"] for r in rows) == CustomerScore.objects.filter(run=scored, customer__owner=rep).count()
    assert all(f"owner={rep.pk}" in r["url"] for r in rows)
    for row in rows:
        assert row["customers"] == listed(client, row["url"])


@pytest.mark.parametrize(("query", "expected"), [
    ("stage=stability", {"stage": "stability"}),
    ("behaviour=loyal", {"behaviour_segment": "loyal"}),
    ("r=5&f=1", {"recency_score": 5, "frequency_score": 1}),
    ("clv_min=100&clv_max=500", {"clv__gte": 100, "clv__lt": 500}),
])
def test_the_scores_page_filters_on_each_score(scored, admin_user, query, expected):
    assert listed(signed_in(admin_user), f"/insights/scores/?{query}") == CustomerScore.objects.filter(run=scored, **expected).count()


def test_the_scores_page_filters_on_an_rfm_cell(scored, admin_user):
    cell = CustomerScore.objects.filter(run=scored).values_list("rfm_cell", flat=True).first()
    assert listed(signed_in(admin_user), f"/insights/scores/?cell={cell}") == CustomerScore.objects.filter(run=scored, rfm_cell=cell).count()


@pytest.mark.parametrize("query", ["r=six", "r=0", "cell=12", "clv_min=lots", "clv_max=NaN", "grade=gold", "owner=-1"])
def test_an_invalid_score_filter_is_a_400_that_names_it(scored, admin_user, query):
    page = signed_in(admin_user).get(f"/insights/scores/?{query}")
    assert page.status_code == 400
    assert query.split("=")[0] in page.context["invalid"]
    assert "These filters are not valid" in page.content.decode()


# --- Grade moves ------------------------------------------------------------------------------------------

@pytest.fixture
def moves(shop, manager):
    """Planted grade moves on 2026-06-10/20 (plus one in May and first grades, which are not moves)."""
    run = ScoringRun.objects.create(as_of=AS_OF, status=ScoringRun.Status.DONE, is_current=True)
    planted = [("normal", "key", 10), ("normal", "key", 20), ("small", "normal", 15), ("key", "small", 12), ("", "key", 5)]
    for index, (a, b, day) in enumerate(planted):
        GradeHistory.objects.create(customer=shop[index], from_grade=a, grade=b, run=run, on=datetime.date(2026, 6, day))
    GradeHistory.objects.create(customer=shop[6], from_grade="key", grade="bad", run=run, on=datetime.date(2026, 5, 31))
    return shop


def test_the_transition_table_counts_moves_per_from_and_to_grade_and_links_to_them(moves, admin_user):
    client = signed_in(admin_user)
    page = client.get("/insights/grades/")
    assert (page.context["start"], page.context["end"]) == (datetime.date(2026, 6, 1), datetime.date(2026, 6, 30))
    cells = {(row["grade"], c["to"]): c for row in page.context["table"] for c in row["cells"]}
    assert cells[("normal", "key")]["moves"] == 2 == listed(client, cells[("normal", "key")]["url"])
    assert cells[("key", "small")]["moves"] == 1 == listed(client, cells[("key", "small")]["url"])
    assert cells[("key", "bad")]["moves"] == 0  # in May
    assert page.context["upgrades"] == 3 == listed(client, page.context["upgrades_url"])
    assert page.context["downgrades"] == 1 == listed(client, page.context["downgrades_url"])
    assert page.context["page"].count == 4  # a first grade is not a move


def test_grade_moves_take_a_from_to_period(moves, admin_user):
    page = signed_in(admin_user).get("/insights/grades/?from=2026-05-01&to=2026-06-12")
    assert {(m.from_grade, m.grade) for m in page.context["page"].rows} == {("key", "bad"), ("normal", "key"), ("key", "small")}


def test_a_rep_sees_only_the_moves_of_their_customers(moves, rep):
    rows = signed_in(rep).get("/insights/grades/").context["page"].rows
    assert rows and {m.customer.owner_id for m in rows} == {rep.pk}


@pytest.mark.parametrize("query", ["from=yesterday", "to=2026-13-01", "from=2026-06-30&to=2026-06-01", "from_grade=gold"])
def test_an_invalid_period_or_grade_is_a_400(moves, manager, query):
    page = signed_in(manager).get(f"/insights/grades/?{query}")
    assert page.status_code == 400 and "These filters are not valid" in page.content.decode()


# --- KPIs -------------------------------------------------------------------------------------------------

def test_the_kpis_page_shows_the_period_kpis_of_the_selector(scored, manager):
    page = signed_in(manager).get("/insights/kpis/?period=quarter&on=2026-05-10")
    assert (page.context["start"], page.context["end"]) == (datetime.date(2026, 4, 1), datetime.date(2026, 6, 30))
    expected = selectors.kpis(manager, start=datetime.date(2026, 4, 1), end=datetime.date(2026, 6, 30),
                              previous_start=datetime.date(2026, 1, 1))
    assert page.context["figures"] == expected
    assert expected.customers_buying > 0


@pytest.mark.parametrize("kind", ["month", "quarter", "year"])
def test_each_period_of_the_trend_equals_the_kpis_of_that_period(scored, manager, kind):
    trend = selectors.kpi_trend(manager, kind=kind, day=AS_OF, periods=4)
    assert len(trend) == 4 and trend[-1].start <= AS_OF <= trend[-1].end
    for period in trend:
        figures = selectors.kpis(manager, start=period.start, end=period.end,
                                 previous_start=selectors.period_shift(kind, period.start, -1))
        assert (period.customers_buying, period.new_customers, period.returning_customers) == (
            figures.customers_buying, figures.new_customers, figures.returning_customers)
        assert (period.repurchase_rate, period.churn_rate, period.price_sensitivity) == pytest.approx(
            (figures.repurchase_rate, figures.churn_rate, figures.price_sensitivity))


def test_the_trend_for_a_grade_and_an_owner_equals_the_kpis(scored, manager, rep):
    period = selectors.kpi_trend(manager, kind="year", day=AS_OF, owner=rep.pk, grade="key")[-1]
    figures = selectors.kpis(manager, start=period.start, end=period.end, owner=rep.pk, grade="key",
                             previous_start=selectors.period_shift("year", period.start, -1))
    assert period.customers_buying == figures.customers_buying > 0
    assert period.repurchase_rate == pytest.approx(figures.repurchase_rate)


def test_a_rep_sees_the_kpis_of_their_own_book(scored, rep, other_rep):
    page = signed_in(rep).get(f"/insights/kpis/?period=year&on=2026-01-01&owner={other_rep.pk}")
    assert page.context["owner"] == rep.pk and page.context["owners"] is None
    mine = selectors.kpis(rep, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31), owner=rep.pk,
                          previous_start=datetime.date(2025, 1, 1))
    assert page.context["figures"] == mine


def test_the_kpis_page_draws_the_trend_with_its_table(scored, manager):
    page = signed_in(manager).get("/insights/kpis/?on=2026-06-15")
    spec = chart_data(page.content.decode())["kpi"]
    assert len(spec["rows"]) == 12 == len(page.context["trend"])
    assert [r["new"] + r["returning"] for r in spec["rows"]] == [p.customers_buying for p in page.context["trend"]]


def test_an_invalid_kpi_date_is_a_400_that_says_so(scored, manager):
    page = signed_in(manager).get("/insights/kpis/?on=someday")
    assert page.status_code == 400 and "These filters are not valid" in page.content.decode()


# --- Query counts -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/insights/", "/insights/?owner=1", "/insights/scores/?r=5&f=2&stage=stability&clv_min=10",
    "/insights/grades/", "/insights/kpis/?period=quarter",
])
def test_the_chart_pages_take_a_constant_number_of_queries(moves, manager, path, django_assert_max_num_queries):
    services.run_scoring(as_of=AS_OF, actor=manager)
    client = signed_in(manager)
    with django_assert_max_num_queries(22):
        assert client.get(path).status_code == 200


def test_past_the_detail_cap_the_trend_keeps_buyers_and_discount_share_only(scored, manager, monkeypatch):
    monkeypatch.setattr(selectors, "TREND_DETAIL_ORDERS", 1)
    period = selectors.kpi_trend(manager, kind="year", day=AS_OF, periods=2)[-1]
    figures = selectors.kpis(manager, start=period.start, end=period.end, previous_start=datetime.date(2025, 1, 1))
    assert period.customers_buying == figures.customers_buying > 0
    assert period.price_sensitivity == pytest.approx(figures.price_sensitivity)
    assert period.new_customers is None and period.repurchase_rate is None
