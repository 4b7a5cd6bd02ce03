"""The admin works for support: every page opens, and customer edits go through the services."""

import pytest
from django.apps import apps
from django.urls import reverse

from guanxi.customers.models import Customer, CustomerSearch, StateChange
from tests.factories import make_customer


@pytest.fixture
def admin_client_(client, admin_user):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # messages are asserted in English
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("app_label", ["customers", "accounts"])
def test_every_model_has_a_working_changelist_and_add_page(admin_client_, rep, app_label):
    customer = make_customer(rep, name="李明华")
    assert customer.pk
    for model in apps.get_app_config(app_label).get_models():
        url = reverse(f"admin:{app_label}_{model._meta.model_name}_changelist")
        assert admin_client_.get(url).status_code == 200, model
        assert admin_client_.get(url, {"q": "李明华"}).status_code == 200, model


def test_adding_a_customer_in_the_admin_creates_its_search_entry_and_history(admin_client_, admin_user):
    response = admin_client_.post(reverse("admin:customers_customer_add"), {
        "kind": "person", "name": "李明华", "state": "potential", "phone": "138 1234 5678", "owner": admin_user.pk,
        "upgrade_potential": "none", "payment_terms": "cash", "payment_days": 0, "credit_limit": "0", "currency": "CNY",
        "profile": "{}", "custom_fields": "{}",
        "important_dates-TOTAL_FORMS": 0, "important_dates-INITIAL_FORMS": 0,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get(name="李明华")
    assert customer.phone == "+8613812345678"
    assert "lmh" in CustomerSearch.objects.get(customer=customer).text
    assert StateChange.objects.filter(customer=customer, actor=admin_user).exists()


def test_a_duplicate_phone_is_shown_on_the_admin_form(admin_client_, rep, admin_user):
    make_customer(rep, phone="13812345678")
    response = admin_client_.post(reverse("admin:customers_customer_add"), {
        "kind": "person", "name": "重复", "state": "potential", "phone": "+86 138-1234-5678", "owner": admin_user.pk,
        "upgrade_potential": "none", "payment_terms": "cash", "payment_days": 0, "credit_limit": "0", "currency": "CNY",
        "profile": "{}", "custom_fields": "{}",
        "important_dates-TOTAL_FORMS": 0, "important_dates-INITIAL_FORMS": 0,
    })
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Customer.objects.count() == 1
