"""The care and campaign API: managers set up rules and campaigns; reps cannot; results come back as numbers."""

import datetime

import pytest

pytestmark = pytest.mark.django_db


def test_a_manager_sets_up_a_birthday_rule_and_a_rep_may_not(api_as, admin_user, rep):
    body = {"name": "生日问候", "kind": "birthday", "days_before": 3, "send_email": True}
    assert api_as(admin_user).post("/care-rules", body).status_code == 201
    assert api_as(rep).post("/care-rules", body).status_code == 403
    assert api_as(admin_user).post("/care-rules", {**body, "kind": "horoscope"}).status_code == 422


def test_a_customer_opts_out_of_care_through_their_rep(api_as, rep, other_rep):
    from guanxi.care.models import CareOptOut
    from tests.factories import make_customer

    customer = make_customer(rep)
    assert api_as(other_rep).post(f"/customers/{customer.pk}/care-opt-out", {}).status_code == 404
    assert api_as(rep).post(f"/customers/{customer.pk}/care-opt-out", {"reason": "电话太多"}).status_code == 204
    assert CareOptOut.objects.filter(customer=customer).exists()


def test_a_campaign_from_segment_to_results(api_as, admin_user, rep):
    from tests.factories import make_customer

    for i in range(5):
        make_customer(rep, state="current", email=f"x{i}@example.com")
    client = api_as(admin_user)
    segment = client.post("/segments", {"name": "现有客户", "filters": {"state": "current"}}).json()
    campaign = client.post("/campaigns", {"name": "春节", "segment": segment["id"], "subject": "新春", "message": "祝福",
                                          "budget": "100.00", "cost": "50.00", "holdout_percent": 0}).json()
    assert client.post(f"/campaigns/{campaign['id']}/launch").json()["status"] == "running"
    from guanxi.customers.models import Customer
    replier = Customer.objects.filter(email="x0@example.com").get()
    assert api_as(rep).post(f"/campaigns/{campaign['id']}/replies/{replier.pk}").status_code == 204
    results = client.get(f"/campaigns/{campaign['id']}/results").json()
    assert results["contacted"]["n"] == 5 and results["roi"] == "-1.0000" and results["contacted"]["replied"] == 1
    assert client.post("/segments", {"name": "x", "filters": {"state": "asleep"}}).status_code == 422
    assert client.post("/incident-notices", {"product": 999, "bought_from": str(datetime.date.today()),
                                             "bought_to": str(datetime.date.today()), "subject": "x", "message": "y"}).status_code == 422


def test_a_periodic_visit_rule_by_grade_through_the_api(api_as, admin_user):
    client = api_as(admin_user)
    response = client.post("/care-rules", {"name": "关键客户拜访", "kind": "periodic_visit", "grade": "key"})
    assert response.status_code == 201 and response.json()["grade"] == "key" and response.json()["interval_days"] is None
    response = client.post("/care-rules", {"name": "拜访", "kind": "periodic_visit", "interval_days": 30})
    assert response.status_code == 422 and "grade" in str(response.json()["detail"])


def test_an_incident_notice_by_batch_through_the_api(api_as, admin_user, rep):
    from decimal import Decimal

    from guanxi.customers.models import CustomerEvent
    from guanxi.sales import services as sales
    from tests.factories import make_customer

    kettle = sales.create_product(actor=admin_user, sku="K-9", name="电水壶", list_price=Decimal("199"))
    buyer, other = make_customer(rep), make_customer(rep)
    for customer, batch in ((buyer, "L7"), (other, "L8")):
        sales.create_order(customer=customer, actor=rep, lines=[{"product": kettle.pk, "batch": batch}])
    client = api_as(admin_user)
    response = client.post("/incident-notices", {"product": kettle.pk, "batch": "L7", "subject": "L7 召回", "message": "请停用"})
    assert response.status_code == 201, response.content
    assert response.json()["recipients"] == 1 and response.json()["batch"] == "L7" and response.json()["bought_from"] is None
    assert CustomerEvent.objects.filter(customer=buyer, verb="incident_notice").exists()
    assert not CustomerEvent.objects.filter(customer=other, verb="incident_notice").exists()
    response = client.post("/incident-notices", {"batch": "L7", "subject": "x", "message": "y"})
    assert response.status_code == 422 and "batch" in str(response.json()["detail"])
    assert client.post("/incident-notices", {"product": kettle.pk, "batch": "x" * 41, "subject": "x", "message": "y"}).status_code == 422
