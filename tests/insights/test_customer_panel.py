"""The customer 360 page's insights section: scores, relationship value, service policy, warnings,
cross-/up-sell; and the grade never reaching anything a customer sees."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.engagement.services import log_interaction
from guanxi.insights import services
from guanxi.insights.models import CustomerScore, Grade, Warning
from tests.factories import make_customer
from tests.insights.conftest import AS_OF, buy

pytestmark = pytest.mark.django_db

PANEL_MAX_QUERIES = 16


def signed_in(user):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def panel(client, customer):
    return client.get(f"/insights/customers/{customer.pk}/", headers={"HX-Request": "true"})


@pytest.fixture
def key_customer(shop, manager):
    services.run_scoring(as_of=AS_OF, actor=manager)
    return (CustomerScore.objects.filter(run__is_current=True, grade="key", clv__isnull=False).select_related("customer")
            .order_by("-profit").first().customer)


def test_the_360_page_loads_the_insights_section_after_the_page(rep, key_customer):
    page = signed_in(rep).get(f"/customers/{key_customer.pk}/").content.decode()
    assert f'hx-get="/insights/customers/{key_customer.pk}/"' in page and 'hx-trigger="load"' in page


def test_the_section_shows_the_current_scores_and_the_service_policy(rep, key_customer):
    score = CustomerScore.objects.get(run__is_current=True, customer=key_customer)
    response = panel(signed_in(rep), key_customer)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Key customer" in html
    assert f"R {score.recency_score} · F {score.frequency_score} · M {score.monetary_score}" in html
    assert f"{score.clv:,.2f}" in html and f"{score.profit:,.2f}" in html
    assert "客户经理制 Account manager" in html and "at least every 30 days" in html


def test_a_key_customer_never_contacted_is_due_for_contact_today(rep, key_customer):
    insights = panel(signed_in(rep), key_customer).context["insights"]
    assert insights.next_contact_due == timezone.localdate() and insights.contact_due_now


def test_next_contact_is_due_the_policy_interval_after_the_last_contact(rep, key_customer):
    last = timezone.now() - datetime.timedelta(days=10)
    log_interaction(customer=key_customer, channel="phone", direction="out", subject="回访", actor=key_customer.owner, occurred_at=last)
    insights = panel(signed_in(rep), key_customer).context["insights"]
    assert insights.next_contact_due == timezone.localdate(last) + datetime.timedelta(days=30)
    assert not insights.contact_due_now


def test_before_any_scoring_run_the_section_says_so(rep, shop):
    html = panel(signed_in(rep), shop[0]).content.decode()
    assert "Not scored yet" in html and "Key customer" not in html


def test_the_wallet_is_twelve_monthly_budgets_of_a_person_and_unknown_for_an_organisation(rep, catalogue):
    person = make_customer(rep, name="预算客户", profile={"consumption": {"monthly_budget": "1500"}})
    company = make_customer(rep, name="某公司", kind="organisation")
    client = signed_in(rep)
    assert panel(client, person).context["insights"].wallet == Decimal("18000.00")
    assert "18,000.00" in panel(client, person).content.decode()
    assert panel(client, company).context["insights"].wallet is None
    assert "unknown" in panel(client, company).content.decode()


def test_referral_value_counts_the_profit_of_the_customers_they_brought(rep, manager, catalogue):
    referrer = make_customer(rep, name="推荐人")
    friend = make_customer(rep, name="朋友", referred_by=referrer)
    buy(referrer, rep, catalogue["tea"], AS_OF - datetime.timedelta(days=30))
    buy(friend, rep, catalogue["kettle"], AS_OF - datetime.timedelta(days=20), quantity=2)
    services.run_scoring(as_of=AS_OF, actor=manager)
    value = panel(signed_in(rep), referrer).context["insights"].value
    assert value.referred_customers == 1 and value.referral_value == Decimal("140.00")  # 2 × (250 − 180)


def test_open_warnings_show_with_forms_that_come_back_to_the_customer(rep, catalogue):
    customer = make_customer(rep, name="欠款客户")
    buy(customer, rep, catalogue["tea"], AS_OF, paid=False)
    type(customer).objects.filter(pk=customer.pk).update(credit_limit=Decimal("10.00"))  # lowered after the order
    services.evaluate_warnings(as_of=AS_OF, kinds=["credit_limit"])
    warning = Warning.objects.get()
    client = signed_in(rep)
    html = panel(client, customer).content.decode()
    assert warning.message in html and f"/insights/warnings/{warning.pk}/acknowledge/" in html
    response = client.post(f"/insights/warnings/{warning.pk}/acknowledge/", {"note": "已联系", "next": f"/customers/{customer.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    warning.refresh_from_db()
    assert warning.status == "acknowledged"


def test_cross_sell_and_up_sell_load_last(rep, catalogue, admin_user):
    from guanxi.sales import services as sales

    pots = sales.create_product_category(actor=admin_user, name="茶壶")
    small_pot = sales.create_product(actor=admin_user, sku="POT1", name="小茶壶", list_price=Decimal("120.00"), category=pots)
    sales.create_product(actor=admin_user, sku="POT3", name="紫砂壶", list_price=Decimal("600.00"), category=pots)
    me, twin = make_customer(rep, name="我"), make_customer(rep, name="双胞胎")
    for customer in (me, twin):
        buy(customer, rep, catalogue["tea"], AS_OF)
    buy(twin, rep, catalogue["cup"], AS_OF)
    buy(me, rep, small_pot, AS_OF)
    client = signed_in(rep)
    assert f"/insights/customers/{me.pk}/suggestions/" in panel(client, me).content.decode()
    suggestions = client.get(f"/insights/customers/{me.pk}/suggestions/", headers={"HX-Request": "true"})
    assert [p.sku for p, _s in suggestions.context["cross_sell"]] == ["CUP"]
    assert [p.sku for p in suggestions.context["up_sell"]] == ["POT3"]
    assert "紫砂壶" in suggestions.content.decode()


def test_without_javascript_the_section_is_a_page_of_its_own(rep, key_customer):
    response = signed_in(rep).get(f"/insights/customers/{key_customer.pk}/")
    html = response.content.decode()
    assert "<html" in html and "Key customer" in html and "Cross-sell" in html


@pytest.mark.parametrize("path", ["/", "/suggestions/"])
def test_another_reps_customer_is_a_404(rep, other_rep, path):
    hidden = make_customer(other_rep, name="秘密客户")
    response = signed_in(rep).get(f"/insights/customers/{hidden.pk}{path}", headers={"HX-Request": "true"})
    assert response.status_code == 404 and "秘密客户" not in response.content.decode()


def test_the_section_takes_a_constant_number_of_queries(rep, catalogue, key_customer, django_assert_max_num_queries):
    client = signed_in(rep)
    make_customer(key_customer.owner, name="首个被推荐", referred_by=key_customer)
    with django_assert_max_num_queries(PANEL_MAX_QUERIES) as few:
        assert panel(client, key_customer).status_code == 200
    for i in range(5):
        log_interaction(customer=key_customer, channel="phone", direction="out", subject=f"回访{i}", actor=key_customer.owner)
        make_customer(key_customer.owner, name=f"被推荐{i}", referred_by=key_customer)
    type(key_customer).objects.filter(pk=key_customer.pk).update(credit_limit=Decimal("1.00"))
    services.evaluate_warnings(as_of=AS_OF)
    assert Warning.objects.filter(customer=key_customer).exists()
    with django_assert_max_num_queries(PANEL_MAX_QUERIES) as many:
        assert panel(client, key_customer).status_code == 200
    assert len(many.captured_queries) <= len(few.captured_queries)


# --- The grade stays internal -------------------------------------------------------------------------------

GRADE_WORDS = [str(label) for label in Grade.labels] + ["关键客户", "普通客户", "小客户", "劣质客户"]


def _no_grade(text: str) -> None:
    lowered = text.lower()
    assert not [w for w in GRADE_WORDS if w.lower() in lowered]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_public_pages_and_the_acknowledgement_email_never_show_a_key_customers_grade(key_customer, language, settings):
    from django.core.cache import cache

    from guanxi.messaging.models import OutboundEmail

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"grade-{language}"}}
    cache.clear()
    key_customer.email = "key@example.com"
    key_customer.save(update_fields=["email"])
    public = Client(headers={"Accept-Language": language})
    for path in ("/complain/", "/contact/"):
        page = public.get(path)
        assert page.status_code == 200
        _no_grade(page.content.decode())
    done = public.post("/complain/", {"name": key_customer.name, "email": "key@example.com", "phone": "", "order_number": "",
                                      "category": "delivery", "description": "货到晚了两周，包装也压坏了。", "desired_outcome": "",
                                      "website": ""}, follow=True)
    assert done.status_code == 200
    _no_grade(done.content.decode())
    ack = OutboundEmail.objects.get(to="key@example.com")
    assert ack.customer_id == key_customer.pk
    _no_grade(ack.subject + ack.body)


def test_a_campaign_email_to_a_key_customer_chosen_as_a_target_never_names_the_grade(key_customer, manager):
    from guanxi.care import services as care
    from guanxi.messaging.models import OutboundEmail

    type(key_customer).objects.filter(pk=key_customer.pk).update(email="key@example.com", marketing_consent=True)
    segment = care.save_segment(actor=manager, name="关键客户回馈", filters={"ids": [key_customer.pk]})
    campaign = care.create_campaign(actor=manager, name="回馈", segment=segment, subject="新茶上市", message="今年的新茶到了。",
                                    holdout_percent=0)
    care.launch_campaign(campaign=campaign, actor=manager)
    email = OutboundEmail.objects.get(to="key@example.com")
    assert "今年的新茶到了" in email.body
    _no_grade(email.subject + email.body)
