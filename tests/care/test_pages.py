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
