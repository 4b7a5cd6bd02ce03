"""Target lists in the UI: a product's look-alikes, ranked prospects, controlled CSV/XLSX exports,
"use as campaign target list", and the administrators' export log."""

import csv
import io
import json

import pytest
from django.test import Client

from guanxi.insights import services
from guanxi.insights.models import CustomerExport, Warning, WarningKind, WarningRule
from tests.factories import make_customer
from tests.insights.conftest import AS_OF, buy

pytestmark = pytest.mark.django_db

LIST_MAX_QUERIES = 12


def signed_in(user):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def planted(rep, other_rep, catalogue):
    """Two buyers of the kettle who also buy tea and cups; a customer who buys tea and cups but no kettle
    (the planted look-alike), one who buys only tea, and another rep's tea-and-cups customer."""
    tea, cup, kettle = catalogue["tea"], catalogue["cup"], catalogue["kettle"]
    people = {}
    for name, owner, products in (("买家甲", rep, (tea, cup, kettle)), ("买家乙", rep, (tea, cup, kettle)),
                                  ("相似客户", rep, (tea, cup)), ("只买茶", rep, (tea,)), ("别人的相似客户", other_rep, (tea, cup))):
        people[name] = make_customer(owner, name=name)
        for product in products:
            buy(people[name], owner, product, AS_OF)
    return people


def lookalikes_url(catalogue):
    return f"/insights/products/{catalogue['kettle'].pk}/lookalikes/"


def test_the_planted_look_alike_ranks_first_on_the_product_page(rep, planted, catalogue):
    rows = signed_in(rep).get(lookalikes_url(catalogue)).context["rows"]
    assert rows[0][0] == planted["相似客户"]
    assert [c.name for c, _s in rows] == ["相似客户", "只买茶"]  # buyers left out, another rep's customer invisible


def test_the_look_alike_page_shows_score_owner_and_state(rep, planted, catalogue):
    html = signed_in(rep).get(lookalikes_url(catalogue)).content.decode()
    assert "相似客户" in html and rep.username in html and "别人的相似客户" not in html
    assert "%" in html and planted["相似客户"].get_state_display() in html


def test_every_product_in_the_list_links_to_its_look_alikes(rep, catalogue):
    assert lookalikes_url(catalogue) in signed_in(rep).get("/products/").content.decode()


def test_an_unknown_product_is_a_404(rep):
    assert signed_in(rep).get("/insights/products/999999/lookalikes/").status_code == 404


def test_the_look_alike_page_takes_a_constant_number_of_queries(manager, rep, planted, catalogue, django_assert_max_num_queries):
    client = signed_in(manager)
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as few:
        assert client.get(lookalikes_url(catalogue)).status_code == 200
    for i in range(8):
        buy(make_customer(rep, name=f"新客户{i}"), rep, catalogue["tea"], AS_OF)
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as many:
        assert len(client.get(lookalikes_url(catalogue)).context["rows"]) == 10
    assert len(many.captured_queries) <= len(few.captured_queries)


# --- Prospects --------------------------------------------------------------------------------------------

@pytest.fixture
def prospects(rep, manager, catalogue):
    """Key, loyal customers are Shanghai manufacturers buying every month; small buyers in Guangzhou bought
    once, long ago. One prospect is a Shanghai manufacturer too, the other a Guangzhou individual."""
    import datetime

    for i in range(4):
        customer = make_customer(rep, name=f"上海制造{i}", kind="organisation", industry="制造业", province="上海", city="上海",
                                 state="current")
        for month in range(6):
            buy(customer, rep, catalogue["kettle"], AS_OF - datetime.timedelta(days=30 * month), quantity=20 - i)
    for i in range(6):
        buy(make_customer(rep, name=f"散客{i}", province="广东", city="广州", state="current"), rep, catalogue["cup"],
            AS_OF - datetime.timedelta(days=400 + i))
    like = make_customer(rep, name="上海新厂", kind="organisation", industry="制造业", province="上海", city="上海", state="potential")
    unlike = make_customer(rep, name="广州个人", province="广东", city="广州", state="target")
    services.run_scoring(as_of=AS_OF, actor=manager)
    return like, unlike


def test_prospects_are_ranked_by_resemblance_to_the_key_and_loyal_customers(rep, prospects):
    rows = signed_in(rep).get("/insights/prospects/").context["rows"]
    assert [c for c, _s in rows][:2] == list(prospects)


def test_the_prospects_page_takes_a_constant_number_of_queries(rep, prospects, django_assert_max_num_queries):
    client = signed_in(rep)
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as few:
        assert client.get("/insights/prospects/").status_code == 200
    for i in range(8):
        make_customer(rep, name=f"潜在{i}", state="potential", province="上海")
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as many:
        assert len(client.get("/insights/prospects/").context["rows"]) == 10
    assert len(many.captured_queries) <= len(few.captured_queries)


def test_before_any_scoring_the_prospects_page_says_what_is_missing(rep):
    make_customer(rep, name="潜在客户", state="potential")
    assert "No prospects to rank" in signed_in(rep).get("/insights/prospects/").content.decode()


# --- Controlled exports -----------------------------------------------------------------------------------

def export(client, filters, fmt="csv"):
    return client.post("/insights/exports/new/", {"filters": json.dumps(filters), "fmt": fmt})


def test_a_rep_sees_no_export_control_and_posting_anyway_is_refused_without_a_file_or_record(rep, planted, catalogue):
    client = signed_in(rep)
    assert "/insights/exports/new/" not in client.get(lookalikes_url(catalogue)).content.decode()
    response = export(client, {"lookalikes_of": catalogue["kettle"].pk})
    assert response.status_code == 403
    assert "attachment" not in response.get("Content-Disposition", "")
    assert not CustomerExport.objects.exists()


def test_a_manager_exports_the_look_alikes_as_csv_and_the_export_is_recorded(manager, planted, catalogue):
    client = signed_in(manager)
    assert "/insights/exports/new/" in client.get(lookalikes_url(catalogue)).content.decode()
    response = export(client, {"lookalikes_of": catalogue["kettle"].pk, "limit": 100})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {r["name"] for r in rows} == {"相似客户", "只买茶"}  # the team's customers; the other team's stay out
    record = CustomerExport.objects.get()
    assert (record.user, record.rows, record.fmt, record.flagged) == (manager, 2, "csv", False)
    assert record.filters == {"lookalikes_of": catalogue["kettle"].pk, "limit": 100}


def test_an_xlsx_export_opens_as_a_workbook(manager, planted, catalogue):
    from openpyxl import load_workbook

    response = export(signed_in(manager), {"lookalikes_of": catalogue["kettle"].pk}, fmt="xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert CustomerExport.objects.get().fmt == "xlsx"


def test_an_export_above_the_volume_rule_is_flagged_to_administrators(manager, planted, catalogue):
    WarningRule.objects.update_or_create(kind=WarningKind.EXPORT_VOLUME, defaults={"parameters": {"rows_per_export": 1}})
    export(signed_in(manager), {"lookalikes_of": catalogue["kettle"].pk})
    assert CustomerExport.objects.get().flagged
    warning = Warning.objects.get(kind=WarningKind.EXPORT_VOLUME)
    assert warning.subject_user == manager and warning.assignee is None


def test_a_bad_filter_is_refused_with_a_message_and_nothing_recorded(manager):
    response = export(signed_in(manager), {"lookalikes_of": "abc"})
    assert response.status_code == 302
    assert not CustomerExport.objects.exists()
    assert export(signed_in(manager), {"scores": {"grade": ["x"]}}).status_code == 302
    assert not CustomerExport.objects.exists()


def test_the_prospect_export_holds_the_ranked_prospects(manager, prospects):
    response = export(signed_in(manager), {"prospects": True, "limit": 1})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["上海新厂"]


def test_the_scores_export_takes_the_scores_filter(manager, prospects):
    from guanxi.insights.models import CustomerScore

    response = export(signed_in(manager), {"scores": {"grade": "key"}})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    keys = CustomerScore.objects.filter(run__is_current=True, grade="key").count()
    assert len(rows) == keys and {r["grade"] for r in rows} == {"key"}


# --- Use as campaign target list ----------------------------------------------------------------------------

def test_the_look_alikes_become_the_audience_of_a_draft_campaign(manager, planted, catalogue):
    from guanxi.care.models import Campaign
    from guanxi.care.services import segment_customers

    response = signed_in(manager).post("/insights/targets/campaign/", {
        "filters": json.dumps({"lookalikes_of": catalogue["kettle"].pk}), "name": "电水壶推荐", "channel": "task",
        "subject": "电水壶", "message": "推荐我们的电水壶。"})
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/"
    assert campaign.status == "draft"
    audience = {c.name for c in segment_customers(campaign.segment, manager)}
    assert audience == {"相似客户", "只买茶"}


def test_a_rep_cannot_turn_a_list_into_a_campaign(rep, planted, catalogue):
    from guanxi.care.models import Campaign

    response = signed_in(rep).post("/insights/targets/campaign/", {
        "filters": json.dumps({"lookalikes_of": catalogue["kettle"].pk}), "name": "x", "subject": "x", "message": "x"})
    assert response.status_code == 403 and not Campaign.objects.exists()


# --- The export log -------------------------------------------------------------------------------------------

def test_administrators_see_who_exported_what_when_and_how_much(admin_user, manager, planted, catalogue):
    export(signed_in(manager), {"lookalikes_of": catalogue["kettle"].pk})
    html = signed_in(admin_user).get("/insights/exports/").content.decode()
    assert manager.username in html and f"lookalikes_of={catalogue['kettle'].pk}" in html
    assert "/insights/exports/" in html  # the subnav offers the log to administrators


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_only_administrators_open_the_export_log(request, role):
    user = request.getfixturevalue(role)
    assert signed_in(user).get("/insights/exports/").status_code == 403


def test_the_export_log_takes_a_constant_number_of_queries(admin_user, manager, django_assert_max_num_queries):
    client = signed_in(admin_user)
    CustomerExport.objects.create(user=manager, filters={"state": "current"}, fmt="csv", rows=3)
    with django_assert_max_num_queries(8) as few:
        assert client.get("/insights/exports/").status_code == 200
    for i in range(10):
        CustomerExport.objects.create(user=admin_user if i % 2 else manager, filters={"ids": [i]}, fmt="xlsx", rows=i)
    with django_assert_max_num_queries(8) as many:
        assert client.get("/insights/exports/").status_code == 200
    assert len(many.captured_queries) <= len(few.captured_queries)


def test_the_scores_page_export_carries_the_current_filter(manager, prospects):
    client = signed_in(manager)
    page = client.get("/insights/scores/", {"grade": "key", "clv_min": "0"}, headers={"HX-Request": "true"})
    filters = json.loads(page.context["export_filters"])
    assert filters == {"scores": {"grade": "key", "clv_min": "0"}}
    assert "/insights/exports/new/" in page.content.decode()
    rows = list(csv.DictReader(io.StringIO(b"".join(export(client, filters).streaming_content).decode("utf-8-sig"))))
    assert len(rows) == len(page.context["page"].rows) and {r["grade"] for r in rows} == {"key"}


def test_a_target_list_segment_holds_only_customers_the_manager_sees(manager, planted):
    from guanxi.care.services import save_segment, segment_customers

    ids = [planted["相似客户"].pk, planted["别人的相似客户"].pk]
    segment = save_segment(actor=manager, name="名单", filters={"ids": ids})
    assert [c.name for c in segment_customers(segment, manager)] == ["相似客户"]


@pytest.mark.parametrize("ids", [["1"], "1,2", list(range(1001))])
def test_a_target_list_segment_refuses_anything_but_a_short_list_of_ids(manager, ids):
    from django.core.exceptions import ValidationError

    from guanxi.care.models import Segment
    from guanxi.care.services import save_segment

    with pytest.raises(ValidationError):
        save_segment(actor=manager, name="名单", filters={"ids": ids})
    assert not Segment.objects.exists()


def test_a_key_customer_still_marked_potential_is_not_listed_as_a_prospect(rep, prospects):
    from guanxi.customers.models import Customer

    Customer.objects.filter(name="上海制造0").update(state="potential")
    names = [c.name for c, _s in signed_in(rep).get("/insights/prospects/").context["rows"]]
    assert "上海制造0" not in names and names[0] == "上海新厂"
