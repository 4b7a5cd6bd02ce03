"""After-sales service (大服务): tickets by own staff or partners, visits, parts, warranties with one reminder, the knowledge base."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.customers import services as customers
from guanxi.customers.models import CustomerEvent
from guanxi.messaging.models import OutboundEmail
from guanxi.sales import services as sales
from guanxi.service import selectors, services
from guanxi.service.models import ServiceTicket

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_line(rep, customer, kettle):
    order = sales.create_order(customer=customer, actor=rep, lines=[{"product": kettle.pk, "quantity": 1}],
                               order_date=datetime.date(2025, 3, 10))
    return order.lines.get()


def test_a_repair_by_our_technician_is_scheduled_done_and_on_the_timeline(agent, customer, order_line):
    ticket = services.open_service_ticket(customer=customer, kind="repair", description="不加热", actor=agent,
                                          order_line=order_line, technician=agent)
    visit = timezone.now() + datetime.timedelta(days=2)
    ticket = services.schedule_visit(ticket=ticket, actor=agent, expected_version=ticket.version, visit_at=visit, address="杭州市西湖区")
    services.record_part(ticket=ticket, actor=agent, description="加热盘", quantity="1", unit_cost="35.50")
    ticket = services.complete_service_ticket(ticket=ticket, actor=agent, expected_version=ticket.version, resolution="更换加热盘")
    assert ticket.status == ServiceTicket.TicketStatus.DONE and ticket.parts.get().unit_cost == Decimal("35.50")
    assert CustomerEvent.objects.filter(customer=customer, verb="service").count() == 3


def test_an_installation_can_go_to_a_partner_but_not_to_both(agent, admin_user, customer):
    partner = customers.create_referrer(actor=admin_user, name="安装服务商", kind="partner")
    ticket = services.open_service_ticket(customer=customer, kind="installation", description="上门安装", actor=agent, partner=partner)
    assert ticket.partner == partner
    with pytest.raises(ValidationError) as error:
        services.open_service_ticket(customer=customer, kind="installation", description="上门安装", actor=agent, partner=partner, technician=agent)
    assert "partner" in error.value.message_dict


def test_a_visit_in_the_past_is_refused(agent, customer):
    ticket = services.open_service_ticket(customer=customer, kind="training", description="培训", actor=agent, technician=agent)
    with pytest.raises(ValidationError) as error:
        services.schedule_visit(ticket=ticket, actor=agent, expected_version=ticket.version, visit_at=timezone.now() - datetime.timedelta(hours=1))
    assert "visit_at" in error.value.message_dict


def test_a_sales_rep_does_not_see_another_reps_tickets(agent, other_rep, customer):
    services.open_service_ticket(customer=customer, kind="delivery", description="送货", actor=agent)
    assert selectors.service_tickets(other_rep).count() == 0 and selectors.service_tickets(agent).count() == 1


def test_a_warranty_runs_from_the_order_date_for_the_configured_months(agent, order_line):
    warranty = services.register_warranty(order_line=order_line, actor=agent, months=12)
    assert (warranty.starts_on, warranty.ends_on) == (datetime.date(2025, 3, 10), datetime.date(2026, 3, 9))


def test_the_expiry_reminder_goes_out_once(agent, order_line, customer):
    warranty = services.register_warranty(order_line=order_line, actor=agent, months=12)
    # Not yet: more than 30 days before the end
    assert services.remind_expiring_warranties(today=datetime.date(2026, 1, 1)) == 0
    # 30 days before: one reminder, and a second run sends nothing more
    assert services.remind_expiring_warranties(today=warranty.ends_on - datetime.timedelta(days=30)) == 1
    assert services.remind_expiring_warranties(today=warranty.ends_on - datetime.timedelta(days=29)) == 0
    assert OutboundEmail.objects.filter(to=customer.email, template="service/email/warranty_reminder").count() == 1


def test_the_knowledge_base_finds_answers_by_any_word(agent, kettle):
    services.save_article(actor=agent, question="水壶不加热怎么办？", answer="检查电源和底座触点。", keywords="加热 故障", product=kettle)
    services.save_article(actor=agent, question="发票怎么开？", answer="在订单页申请。")
    assert [a.question for a in selectors.search_articles("加热")] == ["水壶不加热怎么办？"]
    assert selectors.search_articles("发票 订单").count() == 1


def test_tickets_through_the_api(api_as, agent, customer, other_rep):
    client = api_as(agent)
    response = client.post("/service-tickets", {"customer": customer.pk, "kind": "repair", "description": "不加热", "technician": agent.pk})
    assert response.status_code == 201
    ticket = response.json()
    visit = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    assert client.post(f"/service-tickets/{ticket['id']}/visit", {"version": ticket["version"], "visit_at": visit}).json()["status"] == "scheduled"
    assert client.post(f"/service-tickets/{ticket['id']}/visit", {"version": 1, "visit_at": visit}).status_code == 409
    assert api_as(other_rep).post(f"/service-tickets/{ticket['id']}/complete", {"version": 2, "resolution": "x"}).status_code == 404
    assert client.post("/service-tickets", {"customer": customer.pk, "kind": "teleport", "description": "x"}).status_code == 422
