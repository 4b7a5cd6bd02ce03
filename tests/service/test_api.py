"""The complaints API: intake, moves by name, refusals, visibility, and no 5xx on odd input."""

import pytest

from guanxi.service.models import Complaint, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint_id(api_as, agent, customer):
    response = api_as(agent).post("/complaints", {"channel": "hotline", "customer": customer.pk, "description": "发票开错了",
                                                  "category": "billing"})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_staff_record_a_complaint_and_get_its_reference_and_next_step(api_as, agent, customer):
    response = api_as(agent).post("/complaints", {"channel": "hotline", "customer": customer.pk, "description": "发票开错了"})
    body = response.json()
    assert response.status_code == 201
    assert body["reference"].startswith("TS-") and body["status"] == "received"
    assert body["next_actions"] == ["register"] and body["iana"]


def test_a_move_is_made_by_name_with_its_fields(api_as, agent, complaint_id):
    client = api_as(agent)
    version = client.get(f"/complaints/{complaint_id}").json()["version"]
    response = client.post(f"/complaints/{complaint_id}/actions/register", {
        "version": version, "caused_by": "firm", "concerns": "service", "severity": "low", "reaction": "silent"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "registered"
    assert [s["action"] for s in response.json()["steps"]] == ["receive", "register"]


def test_a_forbidden_move_is_422_naming_the_status(api_as, agent, complaint_id):
    version = Complaint.objects.get(pk=complaint_id).version
    response = api_as(agent).post(f"/complaints/{complaint_id}/actions/archive", {"version": version})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "status"]
    assert Complaint.objects.get(pk=complaint_id).status == Status.RECEIVED


def test_a_field_that_belongs_to_another_move_is_refused(api_as, agent, complaint_id):
    version = Complaint.objects.get(pk=complaint_id).version
    response = api_as(agent).post(f"/complaints/{complaint_id}/actions/register", {"version": version, "solution": "退款"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "solution"]


def test_a_stale_version_is_409(api_as, agent, complaint_id):
    response = api_as(agent).post(f"/complaints/{complaint_id}/actions/register", {
        "version": 99, "caused_by": "firm", "concerns": "service", "reaction": "silent"})
    assert response.status_code == 409


def test_a_complaint_of_another_reps_customer_is_404(api_as, other_rep, complaint_id):
    assert api_as(other_rep).get(f"/complaints/{complaint_id}").status_code == 404
    assert api_as(other_rep).get("/complaints").json()["count"] == 0


def test_an_analyst_cannot_make_moves(api_as, analyst, complaint_id):
    version = Complaint.objects.get(pk=complaint_id).version
    response = api_as(analyst).post(f"/complaints/{complaint_id}/actions/register", {
        "version": version, "caused_by": "firm", "concerns": "service", "reaction": "silent"})
    assert response.status_code == 403


def test_dissatisfaction_is_recorded_through_the_api(api_as, agent, customer):
    response = api_as(agent).post("/dissatisfactions", {"customer": customer.pk, "reaction": "told_others", "note": "朋友圈吐槽"})
    assert response.status_code == 201
    assert api_as(agent).get("/dissatisfactions", customer=customer.pk).json()[0]["reaction"] == "told_others"


def test_statistics_count_complaints_per_thousand_customers(api_as, agent, complaint_id):
    body = api_as(agent).get("/complaints/statistics").json()
    assert body["total"] == 1 and body["per_thousand_customers"] == 1000.0


@pytest.mark.parametrize("payload", [
    {"channel": "carrier pigeon", "description": "x", "contact_email": "a@example.com"},
    {"channel": "hotline", "description": "", "contact_email": "a@example.com"},
    {"channel": "hotline", "description": "x"},
    {"channel": "hotline", "description": "x", "customer": 2**70},
    {"channel": "hotline", "description": "x\x00", "contact_email": "a@example.com"},
    {"channel": "hotline", "description": "x", "contact_email": "a@example.com", "severity": None},
])
def test_bad_intake_is_a_4xx_never_a_5xx(api_as, agent, payload):
    response = api_as(agent).post("/complaints", payload)
    assert 400 <= response.status_code < 500


def test_a_warranty_is_registered_for_an_order_line_and_listed_by_end_date(api_as, agent, other_rep, rep, customer, kettle):
    import datetime

    from guanxi.customers.models import CustomerEvent
    from guanxi.sales import services as sales

    order = sales.create_order(customer=customer, actor=rep, order_date=datetime.date(2025, 3, 10), lines=[{"product": kettle.pk}])
    line = order.lines.get()
    response = api_as(agent).post(f"/order-lines/{line.pk}/warranty", {"months": 24})
    assert response.status_code == 201, response.content
    assert (response.json()["starts_on"], response.json()["ends_on"]) == ("2025-03-10", "2027-03-09")
    assert CustomerEvent.objects.filter(customer=customer, verb="warranty").exists()
    listed = api_as(agent).get(f"/warranties?customer={customer.pk}&ending_by=2027-12-31").json()
    assert [w["order_line_id"] for w in listed] == [line.pk] and listed[0]["product"]["name"] == "电水壶"
    assert api_as(other_rep).post(f"/order-lines/{line.pk}/warranty", {}).status_code == 404
    assert api_as(other_rep).get(f"/warranties?customer={customer.pk}").json() == []
    assert api_as(agent).post(f"/order-lines/{line.pk}/warranty", {"months": 0}).status_code == 422
