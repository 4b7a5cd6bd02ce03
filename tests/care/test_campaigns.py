"""Campaigns: a saved segment as the audience, a hold-out group, responses, conversion, revenue and ROI."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.care import services
from guanxi.care.models import CampaignMember
from guanxi.customers import services as customers
from guanxi.engagement.models import Task
from guanxi.messaging.models import OutboundEmail
from guanxi.sales import services as sales
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def audience(rep):
    people = [make_customer(rep, state="current", province="浙江", email=f"c{i}@example.com") for i in range(40)]
    make_customer(rep, state="current", province="广东", email="gd@example.com")
    return people


def campaign_for(admin_user, **fields):
    segment = services.save_segment(actor=admin_user, name="浙江现有客户", filters={"state": "current", "province": "浙江"})
    return services.create_campaign(actor=admin_user, name="中秋促销", segment=segment, subject="中秋礼盒", message="限时优惠",
                                    budget="5000", cost="1000", holdout_percent=25, **fields)


def test_an_email_campaign_mails_the_segment_except_the_holdout_and_opted_out(admin_user, rep, audience):
    customers.set_marketing_consent(customer=audience[0], consent=False, actor=rep)
    campaign = services.launch_campaign(campaign=campaign_for(admin_user), actor=admin_user)
    members = CampaignMember.objects.filter(campaign=campaign)
    assert members.count() == 39  # the opted-out customer and the other province are not in the audience
    holdout = members.filter(is_holdout=True).count()
    assert 0 < holdout < 39
    assert OutboundEmail.objects.filter(about=f"campaign:{campaign.pk}").count() == 39 - holdout
    assert not OutboundEmail.objects.filter(to="c0@example.com").exists()


def test_a_campaign_is_launched_once(admin_user, audience):
    campaign = services.launch_campaign(campaign=campaign_for(admin_user), actor=admin_user)
    with pytest.raises(ValidationError):
        services.launch_campaign(campaign=campaign, actor=admin_user)


def test_a_task_campaign_gives_the_owners_tasks(admin_user, rep, audience):
    campaign = services.launch_campaign(campaign=campaign_for(admin_user, channel="task"), actor=admin_user)
    contacted = CampaignMember.objects.filter(campaign=campaign, is_holdout=False).count()
    assert Task.objects.filter(assignee=rep, title__startswith="中秋促销").count() == contacted


def test_the_link_records_the_first_opening_and_forwards(client, admin_user, audience):
    campaign = services.launch_campaign(campaign=campaign_for(admin_user), actor=admin_user)
    member = CampaignMember.objects.filter(campaign=campaign, is_holdout=False).first()
    token = services.tracking_token(member)
    assert token in OutboundEmail.objects.get(pk=member.email_id).body
    response = client.get(f"/c/{token}/")
    assert response.status_code == 302 and response["Location"] == "/contact/"
    first = CampaignMember.objects.get(pk=member.pk).opened_at
    client.get(f"/c/{token}/")
    assert first is not None and CampaignMember.objects.get(pk=member.pk).opened_at == first
    assert client.get("/c/forged/").status_code == 302


def test_purchases_within_the_window_give_conversion_revenue_roi_and_lift(admin_user, rep, audience):
    campaign = services.launch_campaign(campaign=campaign_for(admin_user, response_days=30), actor=admin_user)
    product = sales.create_product(actor=admin_user, sku="MOON", name="月饼礼盒", list_price=Decimal("500"))
    contacted = list(CampaignMember.objects.filter(campaign=campaign, is_holdout=False).select_related("customer"))
    holdout = list(CampaignMember.objects.filter(campaign=campaign, is_holdout=True).select_related("customer"))
    # Given 4 contacted buyers and 1 hold-out buyer
    for member in contacted[:4] + holdout[:1]:
        sales.create_order(customer=member.customer, actor=rep, lines=[{"product": product.pk, "quantity": 1}])
    services.attribute_purchases(campaign=campaign)
    results = services.campaign_results(campaign=campaign)
    assert results["contacted"]["bought"] == 4 and results["contacted"]["revenue"] == Decimal("2000.00")
    assert results["roi"] == Decimal("1")  # (2000 − 1000) / 1000
    assert results["lift"] == pytest.approx(4 / len(contacted) - 1 / len(holdout))
    assert results["budget_left"] == Decimal("4000.00")


def test_an_order_counts_for_the_campaign_as_soon_as_it_is_saved_and_stops_when_cancelled(admin_user, rep, audience,
                                                                                          django_capture_on_commit_callbacks):
    campaign = services.launch_campaign(campaign=campaign_for(admin_user, response_days=30), actor=admin_user)
    product = sales.create_product(actor=admin_user, sku="GIFT", name="礼盒", list_price=Decimal("300"))
    member = CampaignMember.objects.filter(campaign=campaign, is_holdout=False).select_related("customer").first()
    # When a contacted customer orders (nobody recounts by hand)
    with django_capture_on_commit_callbacks(execute=True):
        order = sales.create_order(customer=member.customer, actor=rep, lines=[{"product": product.pk, "quantity": 2}])
    # Then the results count the purchase at once
    results = services.campaign_results(campaign=campaign)
    assert results["contacted"]["bought"] == 1 and results["contacted"]["revenue"] == Decimal("600.00")
    # And when the order is cancelled, it no longer counts
    with django_capture_on_commit_callbacks(execute=True):
        sales.cancel_order(order=order, actor=rep, expected_version=order.version, reason="客户改主意")
    results = services.campaign_results(campaign=campaign)
    assert results["contacted"]["bought"] == 0 and results["contacted"]["revenue"] == Decimal("0.00")


def test_the_daily_recount_attributes_orders_written_without_the_hook(admin_user, rep, audience):
    campaign = services.launch_campaign(campaign=campaign_for(admin_user, response_days=30), actor=admin_user)
    product = sales.create_product(actor=admin_user, sku="BULK", name="茶", list_price=Decimal("50"))
    member = CampaignMember.objects.filter(campaign=campaign).first()
    sales.create_order(customer=member.customer, actor=rep, lines=[{"product": product.pk, "quantity": 1}])  # no commit hook in this test
    assert services.campaign_results(campaign=campaign)[("holdout" if member.is_holdout else "contacted")]["bought"] == 0
    assert services.attribute_recent_campaigns() == 1
    assert services.campaign_results(campaign=campaign)[("holdout" if member.is_holdout else "contacted")]["bought"] == 1


def test_a_purchase_after_the_window_does_not_count(admin_user, rep, audience):
    campaign = services.launch_campaign(campaign=campaign_for(admin_user, response_days=7), actor=admin_user)
    campaign.launched_at = timezone.now() - datetime.timedelta(days=10)
    campaign.save(update_fields=["launched_at"])
    product = sales.create_product(actor=admin_user, sku="LATE", name="茶", list_price=Decimal("10"))
    member = CampaignMember.objects.filter(campaign=campaign).first()
    sales.create_order(customer=member.customer, actor=rep, lines=[{"product": product.pk, "quantity": 1}])
    assert services.attribute_purchases(campaign=campaign) == 0


def test_a_segment_with_an_unknown_filter_is_refused(admin_user):
    with pytest.raises(ValidationError) as error:
        services.save_segment(actor=admin_user, name="x", filters={"favourite_colour": "red"})
    assert "filters" in error.value.message_dict


def test_a_segment_of_key_customers_takes_exactly_the_current_runs_key_customers(admin_user, rep, manager):
    # Given a current scoring run that grades one customer key and another small
    from guanxi.insights import services as insights
    from guanxi.insights.models import CustomerScore

    product = sales.create_product(actor=admin_user, sku="KEYS", name="茶", list_price=Decimal("100"))
    big, small = make_customer(rep, state="current", name="大客户"), make_customer(rep, state="current", name="小客户")
    sales.create_order(customer=big, actor=rep, lines=[{"product": product.pk, "quantity": 50}])
    sales.create_order(customer=small, actor=rep, lines=[{"product": product.pk, "quantity": 1}])
    insights.run_scoring(actor=manager)
    assert CustomerScore.objects.get(customer=big, run__is_current=True).grade == "key"
    # When a segment asks for key customers
    segment = services.save_segment(actor=admin_user, name="关键客户", filters={"grade": "key"})
    # Then its audience is the key customer only, and an unknown grade is refused
    assert list(services.segment_customers(segment, admin_user).values_list("pk", flat=True)) == [big.pk]
    with pytest.raises(ValidationError):
        services.save_segment(actor=admin_user, name="x", filters={"grade": "vip"})
