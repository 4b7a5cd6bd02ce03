"""Insights pages: the pyramid with its run and button, scores per grade, the warnings inbox."""

from decimal import Decimal

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from guanxi.insights import services
from guanxi.insights.models import CustomerScore, ScoringRun, Warning
from tests.factories import make_customer
from tests.insights.conftest import AS_OF, buy

pytestmark = pytest.mark.django_db


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_pyramid_counts_customers_and_profit_per_grade_and_links_to_them(shop, manager, admin_user):
    services.run_scoring(as_of=AS_OF, actor=manager)
    page = signed_in(admin_user).get("/insights/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/insights/scores/?grade=key" in html
    rows = {r["grade"]: r for r in page.context["charts"]["pyramid"]}
    assert rows["key"]["customers"] == CustomerScore.objects.filter(run__is_current=True, grade="key").count()
    assert sum(r["customers"] for r in rows.values()) == len(shop)


def test_a_manager_starts_scoring_from_the_page_and_watches_its_progress(shop, manager):
    client = signed_in(manager)
    assert client.post("/insights/runs/start/").status_code == 302
    run = ScoringRun.objects.get()
    assert DBTaskResult.objects.filter(queue_name="bulk").exists()
    fragment = client.get(f"/insights/runs/{run.pk}/", headers={"HX-Request": "true"})
    assert b'hx-trigger="every 1s"' in fragment.content and b"<html" not in fragment.content


def test_a_sales_rep_has_no_scoring_button_and_cannot_start_a_run(shop, rep):
    client = signed_in(rep)
    assert b"/insights/runs/start/" not in client.get("/insights/").content
    assert client.post("/insights/runs/start/").status_code == 403
    assert not ScoringRun.objects.exists()


def test_the_scores_page_lists_only_visible_customers_of_a_grade(shop, manager, other_rep):
    services.run_scoring(as_of=AS_OF, actor=manager)
    rows = signed_in(other_rep).get("/insights/scores/").context["page"].rows
    assert rows and {s.customer.owner_id for s in rows} == {other_rep.pk}


def test_a_rep_resolves_a_warning_from_the_inbox(rep, catalogue):
    customer = make_customer(rep, credit_limit=Decimal("10.00"))
    buy(customer, rep, catalogue["tea"], AS_OF, paid=False)
    services.evaluate_warnings(as_of=AS_OF, kinds=["credit_limit"])
    warning = Warning.objects.get()
    client = signed_in(rep)
    assert warning.message in client.get("/insights/warnings/").content.decode()
    client.post(f"/insights/warnings/{warning.pk}/resolve/", {"note": "已收回欠款"})
    warning.refresh_from_db()
    assert warning.status == "resolved" and "已收回欠款" in warning.note


def test_another_reps_warning_cannot_be_resolved_from_the_page(rep, other_rep, catalogue):
    customer = make_customer(rep, credit_limit=Decimal("10.00"))
    buy(customer, rep, catalogue["tea"], AS_OF, paid=False)
    services.evaluate_warnings(as_of=AS_OF, kinds=["credit_limit"])
    warning = Warning.objects.get()
    assert signed_in(other_rep).post(f"/insights/warnings/{warning.pk}/resolve/", {"note": "x"}).status_code == 404
    warning.refresh_from_db()
    assert warning.status == "open"


@pytest.mark.parametrize("path", ["/insights/", "/insights/scores/", "/insights/warnings/"])
def test_insights_pages_take_a_constant_number_of_queries(shop, manager, path, django_assert_max_num_queries):
    services.run_scoring(as_of=AS_OF, actor=manager)
    client = signed_in(manager)
    with django_assert_max_num_queries(20):
        assert client.get(path).status_code == 200
