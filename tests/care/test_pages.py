"""Care and campaign pages through the test client."""

import pytest

from guanxi.care.models import Campaign, CampaignMember, CareRule
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_a_manager_adds_a_mid_autumn_rule_from_the_page(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/care/rules/new/", {"name": "中秋问候", "kind": "holiday", "holiday": "mid_autumn", "days_before": 2,
                                                "days_after": 0, "current_only": "on", "send_email": "on"})
    assert response.status_code == 302
    assert CareRule.objects.get().holiday == "mid_autumn"
    assert "中秋问候" in client.get("/care/").content.decode()


def test_a_rule_without_its_holiday_stays_on_the_form_with_the_error(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/care/rules/new/", {"name": "节日", "kind": "holiday", "days_before": 0, "days_after": 0, "create_task": "on"})
    assert response.status_code == 422 and "holiday" in response.context["form"].errors


def test_a_rep_cannot_add_rules(client, rep):
    client.force_login(rep)
    response = client.post("/care/rules/new/", {"name": "x", "kind": "birthday", "days_before": 0, "days_after": 0, "create_task": "on"})
    assert response.status_code == 422 and not CareRule.objects.exists()


def test_a_campaign_is_created_launched_and_shows_its_results(client, admin_user, rep):
    for i in range(4):
        make_customer(rep, state="current", province="江苏", email=f"js{i}@example.com")
    client.force_login(admin_user)
    response = client.post("/campaigns/new/", {"name": "江苏推广", "state": "current", "province": "江苏", "channel": "email",
                                              "subject": "新品", "message": "欢迎试用", "budget": "100", "cost": "20",
                                              "holdout_percent": 0, "response_days": 30})
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    client.post(f"/campaigns/{campaign.pk}/launch/")
    assert CampaignMember.objects.filter(campaign=campaign).count() == 4
    page = client.get(f"/campaigns/{campaign.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and page.context["results"]["contacted"]["n"] == 4


# --- Query counts pinned ---------------------------------------------------------------------------------

def test_the_care_rules_page_costs_the_same_queries_for_few_and_many_rules(client, admin_user, rep, django_assert_max_num_queries):
    import datetime

    from guanxi.care import services
    client.force_login(admin_user)
    make_customer(rep, state="current")

    def add_rules(n):
        for i in range(n):
            services.create_care_rule(actor=admin_user, name=f"规则{i:02d}", kind="holiday", holiday="christmas")
        services.apply_care_rules(day=datetime.date(2026, 12, 25))

    add_rules(2)
    with django_assert_max_num_queries(10) as few:
        assert client.get("/care/").status_code == 200
    add_rules(15)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "规则14" in client.get("/care/").content.decode()


def campaign(admin_user, name, members=()):
    from guanxi.care import services
    segment = services.save_segment(actor=admin_user, name=name, filters={"state": "current"})
    made = services.create_campaign(actor=admin_user, name=name, segment=segment, subject="新品", message="欢迎", holdout_percent=0)
    if members:
        services.launch_campaign(campaign=made, actor=admin_user)
    return made


def test_the_campaign_list_costs_the_same_queries_for_few_and_many_campaigns(client, admin_user, django_assert_max_num_queries):
    client.force_login(admin_user)
    for i in range(2):
        campaign(admin_user, f"活动{i:02d}")
    with django_assert_max_num_queries(10) as few:
        assert client.get("/campaigns/").status_code == 200
    for i in range(2, 15):
        campaign(admin_user, f"活动{i:02d}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "活动14" in client.get("/campaigns/").content.decode()


def test_the_campaign_results_cost_the_same_queries_however_many_members_bought(client, admin_user, rep, django_assert_max_num_queries,
                                                                                 django_capture_on_commit_callbacks):
    from decimal import Decimal

    from guanxi.sales import services as sales
    client.force_login(admin_user)
    tea = sales.create_product(actor=admin_user, sku="T-1", name="茶", list_price=Decimal("10"))

    def results_page(buyers):
        customers = [make_customer(rep, state="current", email=f"b{buyers}-{i}@example.com") for i in range(buyers)]
        made = campaign(admin_user, f"活动{buyers}", members=True)
        for customer in customers:
            with django_capture_on_commit_callbacks(execute=True):  # the order's after-commit recount
                sales.create_order(customer=customer, actor=rep, lines=[{"product": tea.pk, "quantity": 1}])
        return made

    small = results_page(2)
    with django_assert_max_num_queries(15) as few:
        page = client.get(f"/campaigns/{small.pk}/")
    assert page.context["results"]["contacted"]["bought"] == 2
    big = results_page(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(f"/campaigns/{big.pk}/")
    assert page.context["results"]["contacted"]["bought"] == 20 and page.context["results"]["contacted"]["revenue"] == Decimal("200.00")


def test_reading_the_campaign_results_writes_nothing(client, admin_user, rep):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    made = campaign(admin_user, "只读", members=True)
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/campaigns/{made.pk}/").status_code == 200
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert [w for w in writes if "campaign" in w.lower()] == []


def test_an_incident_notice_by_batch_from_the_page(client, admin_user, rep):
    from decimal import Decimal

    from guanxi.care.models import IncidentNotice
    from guanxi.sales import services as sales
    kettle = sales.create_product(actor=admin_user, sku="K-1", name="电水壶", list_price=Decimal("199"))
    buyer = make_customer(rep, email="buyer@example.com")
    sales.create_order(customer=buyer, actor=rep, lines=[{"product": kettle.pk, "batch": "B202611"}])
    client.force_login(admin_user)
    response = client.post("/care/incidents/new/", {"product": kettle.pk, "batch": "B202611", "bought_from": "", "bought_to": "",
                                                    "subject": "B202611 召回", "message": "请停用"})
    assert response.status_code == 302
    assert list(IncidentNotice.objects.get().recipients.values_list("customer_id", flat=True)) == [buyer.pk]
    assert "B202611" in client.get("/care/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    response = client.post("/care/incidents/new/", {"batch": "B202611", "subject": "x", "message": "y"})
    assert response.status_code == 422 and "batch" in response.context["form"].errors


def test_a_rep_records_an_opt_out_and_takes_the_customer_back_in(client, rep):
    from guanxi.care.models import CareOptOut
    customer = make_customer(rep, name="赵敏")
    client.force_login(rep)
    response = client.post("/care/opt-outs/", {"customer": customer.pk, "reason": "不希望节日来电"})
    assert response.status_code == 302 and CareOptOut.objects.get(customer=customer).reason == "不希望节日来电"
    assert "赵敏" in client.get("/care/opt-outs/").content.decode()
    assert client.post(f"/care/opt-outs/{customer.pk}/remove/").status_code == 302
    assert not CareOptOut.objects.filter(customer=customer).exists()


def test_another_reps_customer_cannot_be_opted_out_or_in(client, rep, other_rep):
    from guanxi.care.models import CareOptOut
    theirs = make_customer(other_rep, name="别人的客户")
    client.force_login(rep)
    response = client.post("/care/opt-outs/", {"customer": theirs.pk})
    assert response.status_code == 422 and "customer" in response.context["form"].errors
    assert client.post(f"/care/opt-outs/{theirs.pk}/remove/").status_code == 404
    assert not CareOptOut.objects.exists()


def test_the_opt_out_list_costs_the_same_queries_for_few_and_many(client, rep, django_assert_max_num_queries):
    from guanxi.care import services
    client.force_login(rep)

    def opt_out(n):
        for _ in range(n):
            services.opt_out_of_care(customer=make_customer(rep), actor=rep, reason="太多电话")

    opt_out(2)
    with django_assert_max_num_queries(12) as few:
        assert client.get("/care/opt-outs/").status_code == 200
    opt_out(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/care/opt-outs/").content.decode().count("太多电话") == 22


def test_a_reply_is_recorded_from_the_campaign_page_and_counted(client, admin_user, rep):
    customer = make_customer(rep, state="current", name="周杰", email="zj@example.com")
    made = campaign(admin_user, "回访活动", members=True)
    client.force_login(rep)
    page = client.get(f"/campaigns/{made.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "周杰" in page.content.decode() and "Record reply" in page.content.decode()
    assert client.post(f"/campaigns/{made.pk}/replies/{customer.pk}/").status_code == 302
    assert CampaignMember.objects.get(campaign=made, customer=customer).replied_at is not None
    assert client.get(f"/campaigns/{made.pk}/").context["results"]["contacted"]["replied"] == 1


def test_a_reply_for_a_customer_outside_ones_view_is_404(client, admin_user, rep, other_rep):
    theirs = make_customer(other_rep, state="current", email="t@example.com")
    made = campaign(admin_user, "活动", members=True)
    client.force_login(rep)
    assert client.post(f"/campaigns/{made.pk}/replies/{theirs.pk}/").status_code == 404
    assert CampaignMember.objects.get(campaign=made, customer=theirs).replied_at is None
