"""After-sales and care in the browser: an agent takes a repair ticket from opening to done; a manager sets up a
care rule and a campaign, launches it and reads its results; an incident notice by batch reaches that batch's
buyers, and their timelines show it."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from guanxi.care.models import Campaign, CareRule, IncidentNotice
from guanxi.sales import services as sales
from guanxi.service.models import ServiceTicket
from tests.factories import make_customer, make_department, make_team, make_user

pytestmark = pytest.mark.e2e


def field(scope, label):
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\*?$"))  # required fields end in "*"


def fill(scope, values: dict):
    for label, value in values.items():
        target = field(scope, label)
        tag = target.evaluate("e => e.tagName + (e.type ? ':' + e.type : '')")
        if tag.startswith("SELECT"):
            target.select_option(label=value) if not str(value).isdigit() else target.select_option(str(value))
        elif tag == "INPUT:checkbox":
            target.set_checked(bool(value))
        else:
            target.fill(str(value))


@pytest.fixture
def people(transactional_db):
    from importlib import import_module

    from django.apps import apps

    import_module("guanxi.insights.migrations.0002_defaults").seed(apps, None)  # the service policies (flushed between tests)
    department = make_department("客户服务部")
    rep = make_user("sales", username="rep_wu", team=make_team("华东一组", department))  # the manager's department
    agent = make_user("service", username="agent_li", department=department, first_name="Li", last_name="Na")
    manager = make_user("manager", username="manager_zhao", department=department)
    customer = make_customer(rep, name="王芳", email="wangfang@example.com", state="current", address="杭州市西湖区文三路 1 号")
    return {"rep": rep, "agent": agent, "manager": manager, "customer": customer}


def test_an_agent_opens_a_repair_ticket_schedules_the_visit_records_a_part_and_closes_it(open_page, people):
    page = open_page(people["agent"])
    page.goto("/service/tickets/")
    page.get_by_role("link", name="New ticket").first.click()
    page.get_by_label("Find a customer").fill("王芳")
    expect(page.locator("#id_customer option", has_text="王芳")).to_have_count(1)
    page.locator("#id_customer").select_option(label="王芳")
    fill(page.locator("main form"), {"Kind": "Repair", "What is needed": "电水壶不加热", "Our technician": str(people["agent"].pk)})
    page.get_by_role("button", name="Open ticket").click()
    expect(page.locator("h1")).to_contain_text("Repair")
    ticket = ServiceTicket.objects.get()

    visit = timezone.localtime() + datetime.timedelta(days=2)
    schedule = page.locator("form", has=page.locator("input[name=form][value=visit]"))
    field(schedule, "Visit on").fill(visit.strftime("%Y-%m-%dT10:00"))
    schedule.get_by_role("button", name="Schedule").click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    expect(page.locator("h1 .badge")).to_have_text("Visit scheduled")

    page.locator("summary", has_text="Record a part").click()
    part = page.locator("form", has=page.locator("input[name=form][value=part]"))
    fill(part, {"Part": "加热盘", "Quantity": "1", "Unit cost": "30.00"})
    part.get_by_role("button", name="Add part").click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    expect(page.locator("section", has_text="Parts used")).to_contain_text("加热盘")

    page.locator("summary", has_text="Close as done").click()
    done = page.locator("form", has=page.locator("input[name=form][value=complete]"))
    fill(done, {"What was done": "更换加热盘，试机正常。"})
    done.get_by_role("button", name="Done").click()
    expect(page.locator("h1 .badge")).to_have_text("Done")
    expect(page.locator("main")).to_contain_text("更换加热盘")
    ticket.refresh_from_db()
    assert ticket.status == ServiceTicket.TicketStatus.DONE and ticket.visit_at is not None and ticket.parts.count() == 1


def test_a_manager_sets_up_a_care_rule_and_a_campaign_launches_it_and_reads_the_results(open_page, people):
    for i in range(3):
        make_customer(people["rep"], state="current", province="浙江", email=f"zj{i}@example.com")
    page = open_page(people["manager"])
    page.goto("/care/")
    page.get_by_role("link", name="New care rule").first.click()
    form = page.locator("main form")
    fill(form, {"Name": "关键客户定期拜访", "When": "Periodic visit", "Customers of grade (periodic visits)": "Key customer"})
    form.get_by_role("button", name="Save rule").click()
    expect(page.locator(".messages")).to_contain_text("Care rule saved")
    expect(page.locator("table.list")).to_contain_text("关键客户定期拜访")
    expect(page.locator("table.list")).to_contain_text("as the service policy says")
    assert CareRule.objects.get().grade == "key"

    page.get_by_role("link", name="Campaigns", exact=True).click()
    page.get_by_role("link", name="New campaign").first.click()
    form = page.locator("main form")
    fill(form, {"Name": "浙江新品推广", "Audience: state": "Current", "Audience: province": "浙江", "Channel": "E-mail",
                "Subject": "新品上市", "Message": "欢迎试用我们的新茶。", "Budget": "500", "Cost so far": "120", "Hold-out group %": "0"})
    form.get_by_role("button", name="Save campaign").click()
    expect(page.locator("h1")).to_contain_text("浙江新品推广")
    page.get_by_role("button", name="Launch").click()
    expect(page.locator(".messages")).to_contain_text("Campaign launched.")
    expect(page.locator(".kpi", has_text="Contacted").locator(".value")).to_have_text("3")
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.CampaignStatus.RUNNING and campaign.members.count() == 3

    # A contacted customer buys; the results page attributes the purchase.
    buyer = campaign.members.first().customer
    tea = sales.create_product(actor=people["manager"], sku="T-1", name="新茶", list_price=Decimal("80.00"))
    sales.create_order(customer=buyer, actor=people["rep"], lines=[{"product": tea.pk, "quantity": 2}])
    page.goto("/campaigns/")
    page.get_by_role("link", name="浙江新品推广").click()
    expect(page.locator(".kpi", has_text="Bought").locator(".value")).to_have_text("1")
    expect(page.locator(".kpi", has_text="Revenue").locator(".value")).to_contain_text("160.00")


def test_an_incident_notice_by_batch_reaches_the_batchs_buyers_and_their_timelines(open_page, people):
    admin = make_user("admin", username="boss")
    kettle = sales.create_product(actor=admin, sku="K-1", name="电水壶", list_price=Decimal("199.00"))
    rep = people["rep"]
    in_batch = [make_customer(rep, name=name, email=f"b{i}@example.com") for i, name in enumerate(("李雷", "韩梅梅"))]
    other_batch = make_customer(rep, name="张伟")
    for customer in in_batch:
        sales.create_order(customer=customer, actor=rep, lines=[{"product": kettle.pk, "batch": "B202611"}])
    sales.create_order(customer=other_batch, actor=rep, lines=[{"product": kettle.pk, "batch": "B202612"}])

    page = open_page(people["manager"])
    page.goto("/care/")
    page.get_by_role("link", name="Incident notice").click()
    form = page.locator("main form")
    fill(form, {"Product": str(kettle.pk), "Batch / lot": "B202611", "Subject": "B202611 批次电水壶召回",
                "Message": "该批次电水壶底座可能漏电，请停止使用，我们将免费更换。"})
    form.get_by_role("button", name="Send notice").click()
    expect(page.locator(".messages")).to_contain_text("Notice sent to 2 buyers.")
    expect(page.locator("main")).to_contain_text("batch B202611")
    assert set(IncidentNotice.objects.get().recipients.values_list("customer_id", flat=True)) == {c.pk for c in in_batch}

    rep_page = open_page(rep)
    for customer in in_batch:
        rep_page.goto(f"/customers/{customer.pk}/")
        expect(rep_page.locator("#timeline")).to_contain_text("B202611 批次电水壶召回")
    rep_page.goto(f"/customers/{other_batch.pk}/")
    expect(rep_page.locator("#timeline")).not_to_contain_text("召回")
