"""Screenshots of the main screens (desktop and phone, English and Chinese) for docs/screenshots/.

They are written on every e2e run; look at them after a UI change (CJK glyphs, overlaps,
untranslated text) and commit them.
"""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from guanxi.accounts.models import User
from guanxi.customers.models import Customer
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.e2e

LANGUAGES = {"en": "en-GB", "zh-hans": "zh-CN"}
DEVICES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def demo_data(transactional_db):
    call_command("demo", customers=120, seed=7, verbosity=0)
    user = User.objects.get(username="demo")
    customer = (
        Customer.objects.filter(owner__team=user.team, interactions__isnull=False, orders__isnull=False)
        .order_by("pk").first()
    )
    return user, customer


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("device", DEVICES)
def test_screenshots_of_dashboard_customer_list_and_360_page(open_page, screenshot, demo_data, language, device):
    user, customer = demo_data
    user.language = language
    user.save(update_fields=["language"])
    page = open_page(user, viewport=DEVICES[device], locale=LANGUAGES[language])
    page.goto("/")
    expect(page.locator("h1")).to_be_visible()
    screenshot(page, "dashboard", language, device)
    page.goto("/customers/")
    expect(page.locator("table.list")).to_be_visible()
    screenshot(page, "customer-list", language, device)
    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator("#timeline li").first).to_be_visible()
    screenshot(page, "customer-360", language, device)


@pytest.fixture
def care_data(demo_data):
    """On the demo data: care rules, an incident notice by batch, a launched campaign with buyers, a repair ticket."""
    import datetime
    from decimal import Decimal
    from importlib import import_module

    from django.apps import apps
    from django.utils import timezone

    from guanxi.care import services as care
    from guanxi.sales import services as sales
    from guanxi.sales.models import OrderLine
    from guanxi.service import services as service

    import_module("guanxi.insights.migrations.0002_defaults").seed(apps, None)  # service policies (flushed between tests)
    user, customer = demo_data
    for fields in ({"name": "生日问候 Birthday greeting", "kind": "birthday", "days_before": 3, "send_email": True},
                   {"name": "春节问候 Spring Festival", "kind": "holiday", "holiday": "spring_festival", "days_before": 7, "send_email": True},
                   {"name": "中秋问候 Mid-Autumn", "kind": "holiday", "holiday": "mid_autumn", "days_before": 2},
                   {"name": "购买后回访 Revisit after a purchase", "kind": "after_purchase", "days_after": 7},
                   {"name": "关键客户定期拜访 Key-account visits", "kind": "periodic_visit", "grade": "key"},
                   {"name": "建立关系周年 Anniversary", "kind": "anniversary", "send_email": True}):
        care.create_care_rule(actor=user, **fields)
    line = OrderLine.objects.filter(order__customer__owner__team=user.team).exclude(batch="").select_related("product").first()
    care.send_incident_notice(actor=user, product=line.product, batch=line.batch, subject=f"{line.batch} 批次召回 Recall of batch {line.batch}",
                              message="请停止使用该批次产品，我们将免费更换。")
    segment = care.save_segment(actor=user, name="现有客户 Current customers", filters={"state": "current"})
    campaign = care.create_campaign(actor=user, name="双十一新品推广 New-season offer", segment=segment, subject="新品上市",
                                    message="欢迎试用我们的新品。", budget="5000", cost="1800", holdout_percent=20)
    care.launch_campaign(campaign=campaign, actor=user)
    members = list(campaign.members.select_related("customer", "customer__owner").order_by("pk"))
    product = line.product
    for member in members[::3]:
        sales.create_order(customer=member.customer, actor=member.customer.owner, lines=[{"product": product.pk, "quantity": 2}])
    for member in members[1::4]:
        care.record_reply(member=member, actor=member.customer.owner)
    ticket = service.open_service_ticket(customer=customer, kind="repair", description="电水壶不加热 The kettle does not heat.",
                                         actor=user, technician=user)
    service.schedule_visit(ticket=ticket, actor=user, expected_version=ticket.version, address=customer.address or "杭州市西湖区",
                           visit_at=timezone.localtime() + datetime.timedelta(days=2))
    ticket.refresh_from_db()
    service.record_part(ticket=ticket, actor=user, description="加热盘 Heating plate", quantity="1", unit_cost=Decimal("30.00"))
    return user, campaign, ticket


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("device", DEVICES)
def test_screenshots_of_care_rules_campaign_results_and_ticket(open_page, screenshot, care_data, language, device):
    user, campaign, ticket = care_data
    user.language = language
    user.save(update_fields=["language"])
    page = open_page(user, viewport=DEVICES[device], locale=LANGUAGES[language])
    page.goto("/care/")
    expect(page.locator("table.list")).to_be_visible()
    screenshot(page, "care-rules", language, device)
    page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.locator(".kpis")).to_be_visible()
    screenshot(page, "campaign-results", language, device)
    page.goto(f"/service/tickets/{ticket.pk}/")
    expect(page.locator("h1")).to_be_visible()
    screenshot(page, "service-ticket", language, device)
