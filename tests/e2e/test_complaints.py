"""A complaint end to end in the browser: filed on the public form, taken through every step to the
archive by an agent, approved by the manager, and the customer's e-mails arriving at a real SMTP server.
Also the screenshots of the case page and the statistics."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from guanxi.service.models import Complaint, Status
from tests.e2e.conftest import DESKTOP, PHONE
from tests.factories import make_customer, make_department, make_user
from tests.smtp import run_mail_worker, smtp_server  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e

LANGUAGES = {"en": "en-GB", "zh-hans": "zh-CN"}
DEVICES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def people(transactional_db):
    department = make_department("客户服务部")
    rep = make_user("sales", username="rep_wu")
    agent = make_user("service", username="agent_li", email="li@example.com", department=department, first_name="Li", last_name="Na")
    manager = make_user("manager", username="manager_zhao", email="zhao@example.com", department=department)
    customer = make_customer(rep, name="王芳", email="wangfang@example.com", province="浙江")
    return {"department": department, "agent": agent, "manager": manager, "customer": customer}


def form(page, action):
    return page.locator(f"form[action$='/do/{action}/']")


def step(page, action, button, fill=None):
    """Open the step's panel if it is closed, fill it in and submit it; wait for the success message."""
    target = form(page, action)
    if not target.is_visible():
        page.locator("details", has=target).locator("summary").click()
    for label, value in (fill or {}).items():
        field = target.get_by_label(re.compile(rf"^{re.escape(label)}\*?$"))  # required fields end in "*"
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    target.get_by_role("button", name=button).click()
    expect(page.locator(".messages")).to_contain_text("done")


def test_a_complaint_from_the_public_form_to_the_archive(open_page, people, smtp_server):
    # Given a customer who files a complaint on the public form, signed out
    public = open_page()
    public.goto("/complain/")
    public.get_by_label("Your name").fill("Wang Fang")
    public.get_by_label("Your e-mail").fill("wangfang@example.com")
    public.get_by_label("What is it about?").select_option("product_quality")
    public.get_by_label("What happened?").fill("The kettle leaks from the base after a week.")
    public.get_by_label("What would you like us to do?").fill("A new kettle.")
    public.get_by_role("button", name="Send complaint").click()
    reference = public.locator("[data-reference]").inner_text()
    assert re.fullmatch(r"TS-\d{4}-\d{6}", reference)
    run_mail_worker()
    assert reference in smtp_server.to("wangfang@example.com")[0]["Subject"]

    # When the agent takes it through every step
    agent = open_page(people["agent"])
    agent.goto("/complaints/")
    agent.get_by_role("link", name=reference).click()
    expect(agent.locator(".iana")).to_contain_text("Identify")
    step(agent, "register", "Register", {"Caused by": "firm", "About the": "product", "Severity": "high"})
    step(agent, "accept", "Accept as valid")
    step(agent, "assign_department", "Assign department", {"Responsible department": str(people["department"].pk)})
    step(agent, "analyse_cause", "Record cause", {"Root cause": "Seal ring ages early"})
    step(agent, "propose_solution", "Propose solution", {"Solution": "Replace the kettle and refund shipping", "Remedy amount": "800"})
    expect(agent.locator("form[action$='/do/approve/']")).to_have_count(0)  # above the on-the-spot limit

    # And the manager approves
    manager = open_page(people["manager"])
    manager.goto(agent.url)
    step(manager, "approve", "Approve", {"Note": "OK"})

    # And the agent finishes the case
    agent.reload()
    step(agent, "carry_out", "Mark carried out")
    step(agent, "notify_customer", "Notify customer", {"Message to the customer (optional)": "A new kettle is on its way."})
    step(agent, "customer_satisfied", "Customer is satisfied", {"Satisfaction with the handling": "5"})
    step(agent, "record_accountability", "Record accountability", {"Responsible person": "QC line 3", "Measure or penalty": "Retraining"})
    step(agent, "evaluate", "Evaluate", {"Evaluation": "Handled within a day."})
    step(agent, "archive", "Archive")

    # Then the case is archived with its whole history on the case page and the customer's timeline
    expect(agent.locator("[data-status]")).to_have_attribute("data-status", "archived")
    expect(agent.locator(".steps li")).to_have_count(13)
    complaint = Complaint.objects.get(reference=reference)
    assert complaint.status == Status.ARCHIVED and complaint.approved_by == people["manager"]
    assert complaint.customer == people["customer"]
    # And the customer's e-mails arrived at the SMTP server: acknowledgement and the solution notice
    run_mail_worker()
    subjects = [m["Subject"] for m in smtp_server.to("wangfang@example.com")]
    assert len(subjects) == 2 and all(reference in s for s in subjects)
    assert "A new kettle is on its way." in smtp_server.to("wangfang@example.com")[1].get_content()


@pytest.fixture
def complaint_data(people):
    """A handful of complaints in different states, some old, for the case page and the statistics."""
    from django.utils import timezone

    from guanxi.engagement.models import Channel
    from guanxi.service import services
    from tests.service.test_workflow import to_status

    agent, manager, department, customer = people["agent"], people["manager"], people["department"], people["customer"]
    for i in range(60):  # customers who never complained, so 投诉率 per 1,000 reads like a real one
        make_customer(customer.owner, name=f"客户{i:02d}")
    now = timezone.now()
    categories = ["product_quality", "delivery", "service_attitude", "billing", "product_quality", "price", "delivery"]
    channels = [Channel.WEB_FORM, Channel.HOTLINE, Channel.EMAIL, Channel.HOTLINE, Channel.WECHAT, Channel.VISIT, Channel.HOTLINE]
    targets = [Status.ARCHIVED, Status.RESOLVED, Status.PROPOSED, Status.RECEIVED, Status.EVALUATED, Status.ASSIGNED, Status.ANALYSED]
    shown = None
    for i, (category, channel, target) in enumerate(zip(categories, channels, targets)):
        complaint = services.receive_complaint(actor=agent, customer=customer, channel=channel, category=category,
                                               description="水壶底座漏水，用了一周就坏了。", desired_outcome="换一个新的",
                                               received_at=now - datetime.timedelta(days=40 * (i % 4), hours=3))
        complaint = to_status(complaint, target, agent, manager, department)
        if target == Status.PROPOSED:
            shown = complaint
    return people, shown


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("device", DEVICES)
def test_screenshots_of_the_complaint_page_and_statistics(open_page, screenshot, complaint_data, language, device):
    people, complaint = complaint_data
    manager = people["manager"]
    manager.language = language
    manager.save(update_fields=["language"])
    page = open_page(manager, viewport=DEVICES[device], locale=LANGUAGES[language])
    page.goto(f"/complaints/{complaint.pk}/")
    expect(page.locator(".iana")).to_be_visible()
    screenshot(page, "complaint", language, device)
    page.goto("/complaints/?open=0")
    expect(page.locator("table.list")).to_be_visible()
    screenshot(page, "complaint-list", language, device)
    page.goto("/complaints/statistics/")
    expect(page.locator("[data-chart][data-drawn]").first).to_be_attached()
    screenshot(page, "complaint-statistics", language, device)
    public = open_page(viewport=DEVICES[device], locale=LANGUAGES[language])
    public.goto("/complain/")
    screenshot(public, "complaint-form", language, device)
