"""Complaint pages through the test client: list (query count pinned), case page moves, 404 when invisible, statistics."""

import pytest

from guanxi.engagement.models import Channel
from guanxi.service import services
from guanxi.service.models import Complaint, Status

pytestmark = pytest.mark.django_db


def receive(agent, customer, n=1):
    return [services.receive_complaint(actor=agent, customer=customer, channel=Channel.HOTLINE, description=f"问题{i}")
            for i in range(n)]


def test_the_list_costs_the_same_queries_for_few_and_many_rows(client, agent, customer, django_assert_max_num_queries):
    client.force_login(agent)
    receive(agent, customer, 2)
    with django_assert_max_num_queries(12) as few:
        assert client.get("/complaints/").status_code == 200
    receive(agent, customer, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/complaints/")
    assert response.status_code == 200


def test_the_list_shows_complaints_and_highlights_overdue_ones(client, agent, customer):
    import datetime

    from django.utils import timezone
    services.receive_complaint(actor=agent, customer=customer, channel=Channel.HOTLINE, description="旧的",
                               received_at=timezone.now() - datetime.timedelta(days=20))
    client.force_login(agent)
    body = client.get("/complaints/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "TS-" in body and "sla-breached" in body and "Overdue" in body


def test_an_agent_registers_a_complaint_from_the_case_page(client, agent, customer):
    complaint = receive(agent, customer)[0]
    client.force_login(agent)
    page = client.get(f"/complaints/{complaint.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Identify" in page.content.decode()
    response = client.post(f"/complaints/{complaint.pk}/do/register/", {
        "register-version": complaint.version, "customer": customer.pk, "register-channel": "hotline",
        "register-category": "billing", "register-caused_by": "firm", "register-concerns": "service",
        "register-severity": "high", "register-reaction": "complained", "register-description": "发票开错了",
    })
    assert response.status_code == 302
    assert Complaint.objects.get(pk=complaint.pk).status == Status.REGISTERED


def test_a_move_with_a_missing_field_stays_on_the_page_with_the_error(client, agent, customer, service_department):
    complaint = receive(agent, customer)[0]
    from tests.service.test_workflow import register
    complaint = register(complaint, agent)
    client.force_login(agent)
    response = client.post(f"/complaints/{complaint.pk}/do/reject/", {"reject-version": complaint.version, "reject-reason": ""})
    assert response.status_code == 422
    assert Complaint.objects.get(pk=complaint.pk).status == Status.REGISTERED


def test_the_manager_sees_the_approve_and_send_back_buttons_the_agent_does_not(client, agent, service_manager, customer, service_department):
    from tests.service.test_workflow import to_status
    complaint = to_status(receive(agent, customer)[0], Status.PROPOSED, agent, service_manager, service_department)  # 800 > limit
    client.force_login(agent)
    assert "/do/approve/" not in client.get(f"/complaints/{complaint.pk}/").content.decode()
    client.force_login(service_manager)
    body = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert "/do/approve/" in body and "/do/send_back/" in body


def test_a_complaint_outside_the_users_view_is_404(client, agent, other_rep, customer):
    complaint = receive(agent, customer)[0]
    client.force_login(other_rep)
    assert client.get(f"/complaints/{complaint.pk}/").status_code == 404
    assert client.post(f"/complaints/{complaint.pk}/do/register/", {}).status_code == 404


def test_staff_record_a_complaint_for_a_customer(client, agent, customer):
    client.force_login(agent)
    response = client.post("/complaints/new/", {"customer": customer.pk, "channel": "visit", "category": "delivery",
                                                "severity": "medium", "description": "送货晚了三天"})
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and complaint.customer == customer and complaint.channel == "visit"


def test_the_statistics_page_shows_figures_and_chart_data(client, agent, customer):
    receive(agent, customer, 3)
    client.force_login(agent)
    response = client.get("/complaints/statistics/", HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="chart-by-category"' in body and "Per 1,000 customers" in body
    assert response.context["figures"]["total"] == 3


def test_a_repair_ticket_from_the_pages(client, agent, customer):
    import datetime

    from django.utils import timezone

    from guanxi.service.models import ServiceTicket
    client.force_login(agent)
    response = client.post("/service/tickets/new/", {"customer": customer.pk, "kind": "repair", "description": "不加热", "technician": agent.pk})
    ticket = ServiceTicket.objects.get()
    assert response.status_code == 302
    visit = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(f"/service/tickets/{ticket.pk}/", {"form": "visit", "visit-version": ticket.version, "visit-visit_at": visit}).status_code == 302
    assert client.post(f"/service/tickets/{ticket.pk}/", {"form": "part", "part-description": "加热盘", "part-quantity": "1", "part-unit_cost": "30"}).status_code == 302
    ticket.refresh_from_db()
    assert client.post(f"/service/tickets/{ticket.pk}/", {"form": "complete", "complete-version": ticket.version, "complete-resolution": "已修好"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "done" and ticket.parts.count() == 1
    assert client.get("/service/tickets/").status_code == 200


def test_the_knowledge_base_page_searches_and_adds_answers(client, agent):
    client.force_login(agent)
    assert client.post("/service/knowledge/", {"question": "发票怎么开？", "answer": "在订单页申请。"}).status_code == 302
    assert "发票怎么开" in client.get("/service/knowledge/?q=发票").content.decode()


def test_dissatisfaction_is_recorded_from_its_page(client, agent, customer):
    from guanxi.service.models import Dissatisfaction
    client.force_login(agent)
    response = client.post("/complaints/dissatisfaction/", {"customer": customer.pk, "reaction": "stopped_buying", "category": "price"})
    assert response.status_code == 302 and Dissatisfaction.objects.filter(customer=customer).exists()


# --- After-sales, knowledge base, dissatisfaction: query counts pinned --------------------------------------

def tickets(agent, customer, n):
    return [services.open_service_ticket(customer=customer, kind="repair", description=f"故障{i}", actor=agent, technician=agent)
            for i in range(n)]


def test_the_ticket_list_costs_the_same_queries_for_few_and_many_tickets(client, agent, customer, django_assert_max_num_queries):
    client.force_login(agent)
    tickets(agent, customer, 2)
    with django_assert_max_num_queries(12) as few:
        assert client.get("/service/tickets/").status_code == 200
    newest = tickets(agent, customer, 25)[-1]
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert f'href="/service/tickets/{newest.pk}/"' in client.get("/service/tickets/").content.decode()


def test_a_ticket_page_costs_the_same_queries_for_one_part_or_many(client, agent, customer, django_assert_max_num_queries):
    client.force_login(agent)
    ticket = tickets(agent, customer, 1)[0]
    services.record_part(ticket=ticket, actor=agent, description="加热盘")
    with django_assert_max_num_queries(12) as few:
        assert client.get(f"/service/tickets/{ticket.pk}/").status_code == 200
    for i in range(12):
        services.record_part(ticket=ticket, actor=agent, description=f"零件{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "零件11" in client.get(f"/service/tickets/{ticket.pk}/").content.decode()


def test_the_knowledge_base_costs_the_same_queries_for_few_and_many_answers(client, agent, django_assert_max_num_queries):
    client.force_login(agent)
    services.save_article(actor=agent, question="发票怎么开？", answer="在订单页申请。")
    with django_assert_max_num_queries(10) as few:
        assert client.get("/service/knowledge/").status_code == 200
    for i in range(15):
        services.save_article(actor=agent, question=f"问题{i}？", answer="答案")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "问题14" in client.get("/service/knowledge/").content.decode()


def test_the_dissatisfaction_page_for_a_customer_is_cheap(client, agent, customer, django_assert_max_num_queries):
    client.force_login(agent)
    with django_assert_max_num_queries(10):
        assert customer.name in client.get(f"/complaints/dissatisfaction/?customer={customer.pk}").content.decode()


def test_the_public_contact_page_shares_the_knowledge_base_answers(client, agent):
    services.save_article(actor=agent, question="发票怎么开？", answer="在订单页申请电子发票。")
    services.save_article(actor=agent, question="内部草稿", answer="未发布", is_published=False)
    body = client.get("/contact/").content.decode()
    assert "发票怎么开？" in body and "在订单页申请电子发票。" in body and "内部草稿" not in body
