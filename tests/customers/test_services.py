"""Customer services: each write validates, records who did it and keeps search in step."""

import datetime
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from guanxi.core.locking import StaleVersion
from guanxi.customers import selectors, services
from guanxi.customers.models import Contact, Customer, CustomerEvent, CustomerSearch
from guanxi.customers.search import search_customers
from tests.factories import make_customer


def _names(queryset):
    return sorted(c.name for c in queryset)


# --- Duplicates ----------------------------------------------------------------------------

def test_duplicate_email_in_other_case_is_refused_naming_email(rep):
    make_customer(rep, email="li@example.com")
    with pytest.raises(services.DuplicateCustomer) as caught:
        make_customer(rep, email="  LI@Example.com ")
    assert "email" in caught.value.message_dict


def test_duplicate_credit_code_is_refused_even_across_owners(rep, other_rep):
    make_customer(rep, kind="organisation", uscc="91350100M000100Y43")
    with pytest.raises(services.DuplicateCustomer) as caught:
        make_customer(other_rep, kind="organisation", uscc="91350100m000100y43")
    assert "uscc" in caught.value.message_dict


def test_update_to_another_customers_phone_is_a_duplicate(rep):
    make_customer(rep, phone="13812345678")
    other = make_customer(rep, phone="13912345678")
    with pytest.raises(services.DuplicateCustomer):
        services.update_customer(customer=other, actor=rep, expected_version=1, phone="+86 138 1234 5678")
    assert Customer.objects.get(pk=other.pk).phone == "+8613912345678"


def test_update_keeping_its_own_phone_is_not_a_duplicate(rep):
    customer = make_customer(rep, phone="13812345678")
    services.update_customer(customer=customer, actor=rep, expected_version=1, phone="138 1234 5678", city="上海")
    assert Customer.objects.get(pk=customer.pk).city == "上海"


# --- Update, state, reassign, consent, verified --------------------------------------------

def test_update_records_the_changed_fields_on_the_timeline(rep):
    customer = make_customer(rep)
    services.update_customer(customer=customer, actor=rep, expected_version=1, city="上海", tags=["VIP"])
    event = CustomerEvent.objects.get(customer=customer, verb="updated")
    assert event.actor == rep
    assert "city" in event.summary and "tags" in event.summary


def test_stale_update_raises_and_leaves_the_row_untouched(rep):
    customer = make_customer(rep, city="北京")
    services.update_customer(customer=Customer.objects.get(pk=customer.pk), actor=rep, expected_version=1, city="上海")
    with pytest.raises(StaleVersion) as caught:
        services.update_customer(customer=customer, actor=rep, expected_version=1, city="广州")
    assert caught.value.current.version == 2
    assert Customer.objects.get(pk=customer.pk).city == "上海"


def test_reassigning_moves_the_search_row_so_the_new_owner_finds_it(rep, other_rep, admin_user):
    customer = make_customer(rep, name="李明华")
    services.reassign_customer(customer=customer, owner=other_rep, actor=admin_user)
    assert _names(search_customers(other_rep, "明")) == ["李明华"]
    assert _names(search_customers(rep, "明")) == []
    assert CustomerSearch.objects.get(customer=customer).owner_id == other_rep.pk


def test_reassigning_to_an_inactive_user_is_refused(rep, other_rep, admin_user):
    customer = make_customer(rep)
    other_rep.is_active = False
    other_rep.save()
    with pytest.raises(ValidationError):
        services.reassign_customer(customer=customer, owner=other_rep, actor=admin_user)


def test_opting_out_remembers_when(rep):
    customer = make_customer(rep, marketing_consent=True)
    services.set_marketing_consent(customer=customer, consent=False, actor=rep)
    customer.refresh_from_db()
    assert customer.is_opted_out and not customer.marketing_consent


def test_completeness_rises_as_the_profile_is_filled(rep):
    customer = make_customer(rep)
    before = customer.completeness
    services.update_customer(
        customer=customer, actor=rep, expected_version=1, city="上海", phone="13812345678",
        profile={"education": {"school": "复旦大学", "major": "经济"}},
    )
    assert Customer.objects.get(pk=customer.pk).completeness > before


# --- Contacts ------------------------------------------------------------------------------

def test_contact_phone_is_normalised_and_finds_the_customer(rep):
    customer = make_customer(rep, name="华东贸易", kind="organisation")
    contact = services.create_contact(customer=customer, actor=rep, name="陈静", phone="137 0000 1111", role="purchaser")
    assert contact.phone == "+8613700001111"
    assert _names(search_customers(rep, "13700001111")) == ["华东贸易"]


def test_updating_a_contact_with_a_stale_version_raises(rep):
    customer = make_customer(rep)
    contact = services.create_contact(customer=customer, actor=rep, name="陈静")
    services.update_contact(contact=Contact.objects.get(pk=contact.pk), actor=rep, expected_version=1, title="经理")
    with pytest.raises(StaleVersion):
        services.update_contact(contact=contact, actor=rep, expected_version=1, title="总监")
    assert Contact.objects.get(pk=contact.pk).title == "经理"


def test_deleting_a_contact_removes_it_from_search(rep):
    customer = make_customer(rep, name="华东贸易")
    contact = services.create_contact(customer=customer, actor=rep, name="陈静", email="chen@example.com")
    services.delete_contact(contact=contact, actor=rep)
    assert _names(search_customers(rep, "chen@example.com")) == []


def test_only_one_primary_contact_per_customer(rep):
    customer = make_customer(rep)
    first = services.create_contact(customer=customer, actor=rep, name="甲", is_primary=True)
    services.create_contact(customer=customer, actor=rep, name="乙", is_primary=True)
    assert list(Contact.objects.filter(customer=customer, is_primary=True).values_list("name", flat=True)) == ["乙"]
    assert not Contact.objects.get(pk=first.pk).is_primary


def test_contact_with_a_bad_phone_names_phone(rep):
    customer = make_customer(rep)
    with pytest.raises(ValidationError) as caught:
        services.create_contact(customer=customer, actor=rep, name="甲", phone="12")
    assert "phone" in caught.value.message_dict


# --- Important dates and custom fields -----------------------------------------------------

def test_important_date_is_kept_and_shown_on_the_timeline(rep):
    customer = make_customer(rep)
    services.add_important_date(customer=customer, actor=rep, label="合作纪念日", date=datetime.date(2020, 5, 20))
    assert [d.label for d in selectors.important_dates(rep, customer.pk)] == ["合作纪念日"]
    assert CustomerEvent.objects.filter(customer=customer, verb="date_added").exists()


def test_only_administrators_define_custom_fields(rep):
    with pytest.raises(PermissionDenied):
        services.define_custom_field(actor=rep, key="wine", label="Favourite wine")


def test_a_defined_custom_field_is_validated_on_customers(admin_user, rep):
    services.define_custom_field(actor=admin_user, key="vip_level", label="VIP", field_type="choice", choices=["金", "银"])
    customer = make_customer(rep, custom_fields={"vip_level": "金"})
    assert customer.custom_fields == {"vip_level": "金"}
    with pytest.raises(ValidationError) as caught:
        make_customer(rep, custom_fields={"vip_level": "铜"})
    assert "custom_fields.vip_level" in caught.value.message_dict


def test_a_choice_field_needs_choices(admin_user):
    with pytest.raises(ValidationError) as caught:
        services.define_custom_field(actor=admin_user, key="tier", label="Tier", field_type="choice")
    assert "choices" in caught.value.message_dict


# --- Referrals -----------------------------------------------------------------------------

def test_referrals_are_found_directly_and_indirectly_with_their_depth(rep):
    # given 甲 referred 乙, 乙 referred 丙 and 丁, 丙 referred 戊
    a = make_customer(rep, name="甲")
    b = make_customer(rep, name="乙", referred_by=a)
    c = make_customer(rep, name="丙", referred_by=b)
    make_customer(rep, name="丁", referred_by=b)
    make_customer(rep, name="戊", referred_by=c)

    tree = selectors.referred_customers(rep, a)

    assert [(customer.name, depth) for customer, depth in tree] == [("乙", 1), ("丁", 2), ("丙", 2), ("戊", 3)]
    assert [(x.name, d) for x, d in selectors.referred_customers(rep, a, max_depth=2)][-1][1] == 2


def test_referral_chain_only_returns_customers_the_user_can_see(rep, other_rep):
    a = make_customer(rep, name="甲")
    hidden = make_customer(other_rep, name="乙", referred_by=a)
    make_customer(rep, name="丙", referred_by=hidden)
    assert [(x.name, d) for x, d in selectors.referred_customers(rep, a)] == [("丙", 2)]


def test_a_referral_cycle_is_refused(rep):
    a = make_customer(rep, name="甲")
    b = make_customer(rep, name="乙", referred_by=a)
    with pytest.raises(ValidationError) as caught:
        services.set_referral(customer=a, referred_by=b, actor=rep)
    assert "referred_by" in caught.value.message_dict


def test_a_paid_referrer_is_recorded(rep):
    agent = services.create_referrer(actor=rep, name="老周", phone="13600000000", commission_per_lead="200.00")
    customer = make_customer(rep)
    services.set_referral(customer=customer, referrer=agent, actor=rep)
    assert Customer.objects.get(pk=customer.pk).referrer == agent


# --- Stale profiles ------------------------------------------------------------------------

def test_stale_profiles_are_those_never_or_long_ago_verified(rep):
    fresh = make_customer(rep, name="新")
    old = make_customer(rep, name="旧")
    make_customer(rep, name="从未")
    services.mark_verified(customer=fresh, actor=rep)
    Customer.objects.filter(pk=old.pk).update(last_verified_at=timezone.now() - timedelta(days=400))

    assert _names(selectors.stale_profiles(rep, days=365)) == ["从未", "旧"]


def test_stale_profile_counts_per_owner_cover_only_visible_customers(rep, other_rep, manager):
    make_customer(rep)
    make_customer(rep)
    make_customer(other_rep)
    counts = selectors.stale_profile_counts(rep)
    assert counts == [{"owner_id": rep.pk, "owner__username": rep.username, "stale": 2}]
