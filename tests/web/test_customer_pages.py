"""Customer screens through the test client: visibility, query counts, htmx fragments, forms."""

import pytest
from django.test import Client

from guanxi.customers.models import Customer
from guanxi.engagement.services import log_interaction
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

LIST_MAX_QUERIES = 9
DETAIL_MAX_QUERIES = 40


def _customers(owner, n, prefix="客户"):
    return [make_customer(owner, name=f"{prefix}{i}", tags=["VIP", f"t{i % 3}"]) for i in range(n)]


def test_list_query_count_is_pinned_and_does_not_grow_with_rows(browser_as, rep, django_assert_max_num_queries):
    client = browser_as(rep)
    _customers(rep, 2)
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as few:
        assert client.get("/customers/").status_code == 200
    _customers(rep, 25, prefix="更多")
    with django_assert_max_num_queries(LIST_MAX_QUERIES) as many:
        response = client.get("/customers/?sort=name&tag=VIP")
    assert response.status_code == 200
    assert len(many.captured_queries) <= len(few.captured_queries)


def test_list_shows_only_visible_customers(browser_as, rep, other_rep):
    make_customer(rep, name="我的客户")
    make_customer(other_rep, name="别人的客户")
    body = browser_as(rep).get("/customers/").content.decode()
    assert "我的客户" in body
    assert "别人的客户" not in body


def test_list_finds_a_chinese_name_by_pinyin_initials(browser_as, rep):
    make_customer(rep, name="李明华")
    make_customer(rep, name="王芳")
    body = browser_as(rep).get("/customers/", {"q": "lmh"}).content.decode()
    assert "李明华" in body and "王芳" not in body


@pytest.mark.parametrize("sort", ["password", "-state", "updated_at; DROP TABLE", ""])
def test_a_sort_outside_the_whitelist_falls_back_to_newest_first(browser_as, rep, sort):
    make_customer(rep, name="甲")
    response = browser_as(rep).get("/customers/", {"sort": sort})
    assert response.status_code == 200 and response.context["sort"] == "-created_at"


@pytest.mark.parametrize("params", [{"state": "nope"}, {"source": "x"}, {"owner": "abc"}, {"page": "-3"}, {"page": "99999"}])
def test_odd_filter_values_never_break_the_list(browser_as, rep, params):
    make_customer(rep, name="甲")
    response = browser_as(rep).get("/customers/", params)
    assert response.status_code == 200 and "甲" in response.content.decode()


def test_empty_list_says_so_and_offers_to_add_one(browser_as, rep):
    body = browser_as(rep).get("/customers/").content.decode()
    assert "No customers yet" in body
    assert 'href="/customers/new/"' in body


def test_htmx_request_gets_the_results_fragment_and_responses_vary_on_it(browser_as, rep):
    make_customer(rep, name="李明华")
    client = browser_as(rep)
    fragment = client.get("/customers/", {"q": "明"}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and "李明华" in fragment.content.decode()
    assert "HX-Request" in fragment["Vary"]
    full = client.get("/customers/", {"q": "明"})
    assert "<html" in full.content.decode() and "HX-Request" in full["Vary"]


def test_an_htmx_history_restore_gets_the_full_page(browser_as, rep):
    response = browser_as(rep).get("/customers/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode()


def test_360_page_query_count_is_pinned_and_does_not_grow_with_history(browser_as, rep, django_assert_max_num_queries):
    customer = make_customer(rep, name="孙丽", tags=["VIP"])
    client = browser_as(rep)
    log_interaction(customer=customer, channel="phone", direction="out", subject="首次回访", actor=rep)
    make_customer(rep, name="首个被推荐", referred_by=customer)
    with django_assert_max_num_queries(DETAIL_MAX_QUERIES) as few:
        assert client.get(f"/customers/{customer.pk}/").status_code == 200
    for i in range(15):
        log_interaction(customer=customer, channel="phone", direction="out", subject=f"回访{i}", actor=rep)
        make_customer(rep, name=f"被推荐{i}", referred_by=customer)
    with django_assert_max_num_queries(DETAIL_MAX_QUERIES) as many:
        body = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "回访14" in body and "被推荐14" in body
    assert len(many.captured_queries) <= len(few.captured_queries)


@pytest.mark.parametrize("path", ["/", "/edit/", "/state/", "/interactions/new/", "/tasks/new/", "/opportunities/new/", "/timeline/"])
def test_every_page_of_an_invisible_customer_is_404(browser_as, rep, other_rep, path):
    hidden = make_customer(other_rep, name="秘密客户")
    response = browser_as(rep).get(f"/customers/{hidden.pk}{path}", HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    assert "秘密客户" not in response.content.decode()


def test_a_read_only_role_sees_the_customer_but_cannot_open_the_edit_form(browser_as, rep, analyst):
    customer = make_customer(rep, name="只读")
    client = browser_as(analyst)
    assert client.get(f"/customers/{customer.pk}/").status_code == 200
    assert client.get(f"/customers/{customer.pk}/edit/").status_code == 403


def test_posts_without_a_csrf_token_are_refused(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    response = client.post("/customers/new/", {"kind": "person", "name": "无令牌"})
    assert response.status_code == 403
    assert not Customer.objects.filter(name="无令牌").exists()


def _person(name, **extra):
    data = {"kind": "person", "name": name, "state": "potential", "upgrade_potential": "none", "payment_terms": "cash",
            "payment_days": "0", "credit_limit": "0", "currency": "CNY"}
    data.update(extra)
    return data


def test_creating_a_customer_saves_profile_lists_and_tags(browser_as, rep):
    response = browser_as(rep).post("/customers/new/", _person("张伟", phone="13812345678", tags="VIP，老客户", p__life__hobbies="围棋、登山"))
    customer = Customer.objects.get(name="张伟")
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    assert sorted(t.name for t in customer.tags.all()) == ["VIP", "老客户"]
    assert customer.profile == {"life": {"hobbies": ["围棋", "登山"]}}


def test_a_bad_phone_is_reported_next_to_the_phone_field(browser_as, rep):
    response = browser_as(rep).post("/customers/new/", _person("张伟", phone="12345"))
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert not Customer.objects.filter(name="张伟").exists()


def test_a_bad_profile_value_is_reported_next_to_its_field(browser_as, rep):
    response = browser_as(rep).post("/customers/new/", _person("张伟", p__education__graduation_year="nineteen"))
    assert "p__education__graduation_year" in response.context["form"].errors


def test_a_duplicate_links_to_the_existing_customer_when_the_user_may_see_it(browser_as, rep):
    existing = make_customer(rep, name="李明华", phone="13812345678")
    response = browser_as(rep).post("/customers/new/", _person("李明华2", phone="138 1234 5678"))
    assert response.context["form"].errors["phone"]
    assert f'href="/customers/{existing.pk}/"' in response.content.decode()


def test_a_duplicate_never_reveals_a_customer_the_user_may_not_see(browser_as, rep, other_rep):
    hidden = make_customer(other_rep, name="秘密客户", phone="13812345678")
    response = browser_as(rep).post("/customers/new/", _person("新客户", phone="13812345678"))
    body = response.content.decode()
    assert response.context["form"].errors["phone"]
    assert "秘密客户" not in body and f'href="/customers/{hidden.pk}/"' not in body


def test_a_stale_save_shows_both_versions_keeps_the_input_and_offers_the_new_version(browser_as, rep):
    customer = make_customer(rep, name="赵敏", city="上海")
    client = browser_as(rep)
    client.post(f"/customers/{customer.pk}/edit/", _person("赵敏", city="北京", version="1"))
    response = client.post(f"/customers/{customer.pk}/edit/", _person("赵敏", city="杭州", notes="龙井", version="1"))
    rows = {row["name"]: row for row in response.context["conflict"]["rows"]}
    assert (rows["city"]["yours"], rows["city"]["theirs"]) == ("杭州", "北京")
    assert response.context["form"]["version"].value() == "2"
    assert response.context["form"]["notes"].value() == "龙井"
    customer.refresh_from_db()
    assert customer.city == "北京"


def test_changing_state_to_lost_needs_a_reason(browser_as, rep):
    customer = make_customer(rep, name="流失")
    client = browser_as(rep)
    refused = client.post(f"/customers/{customer.pk}/state/", {"to": "lost", "reason": "价格太高"}, HTTP_HX_REQUEST="true")
    assert "reason_category" in refused.context["form"].errors
    done = client.post(f"/customers/{customer.pk}/state/", {"to": "lost", "reason_category": "price", "reason": "价格太高"},
                       HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"
    customer.refresh_from_db()
    assert customer.state == "lost"
    assert (customer.state_changes.first().reason_category, customer.state_changes.first().reason) == ("price", "价格太高")


def test_a_quick_action_closes_the_modal_and_refreshes_the_timeline(browser_as, rep):
    customer = make_customer(rep, name="孙丽")
    response = browser_as(rep).post(
        f"/customers/{customer.pk}/interactions/new/",
        {"channel": "phone", "direction": "out", "content_type": "information", "phase": "before", "subject": "回访"},
        HTTP_HX_REQUEST="true",
    )
    assert "closeModal" in response["HX-Trigger"] and "timelineChanged" in response["HX-Trigger"]
    assert customer.interactions.get().subject == "回访"


def test_a_quick_action_without_javascript_is_a_plain_page_that_returns_to_the_customer(browser_as, rep):
    customer = make_customer(rep, name="孙丽")
    client = browser_as(rep)
    assert "<html" in client.get(f"/customers/{customer.pk}/tasks/new/").content.decode()
    response = client.post(f"/customers/{customer.pk}/tasks/new/", {"title": "发送合同", "priority": "2"})
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    assert customer.tasks.get().assignee == rep


def test_inline_validation_answers_for_one_field_with_its_error(browser_as, rep):
    client = browser_as(rep)
    bad = client.post("/customers/validate/", _person("张伟", phone="12345", _field="phone"), HTTP_HX_REQUEST="true")
    body = bad.content.decode()
    assert 'id="field-phone"' in body and "has-error" in body and "valid phone number" in body
    assert 'id="field-name"' not in body
    good = client.post("/customers/validate/", _person("张伟", phone="13812345678", _field="phone"), HTTP_HX_REQUEST="true")
    assert "has-error" not in good.content.decode()


def test_custom_fields_defined_by_an_administrator_are_in_the_form_and_saved(browser_as, rep):
    from guanxi.customers.models import CustomFieldDefinition

    CustomFieldDefinition.objects.create(key="wine", label="喜欢的酒", field_type="choice", choices=["茅台", "五粮液"])
    client = browser_as(rep)
    assert "喜欢的酒" in client.get("/customers/new/").content.decode()
    client.post("/customers/new/", _person("周杰", cf__wine="茅台"))
    assert Customer.objects.get(name="周杰").custom_fields == {"wine": "茅台"}


def test_adding_a_contact_from_the_360_page_refreshes_the_contacts_and_finds_the_customer_by_it(browser_as, rep):
    customer = make_customer(rep, name="华夏食品有限公司", kind="organisation")
    client = browser_as(rep)
    response = client.post(
        f"/customers/{customer.pk}/contacts/new/",
        {"name": "陈静", "role": "purchaser", "phone": "13912345678", "is_primary": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert "contactsChanged" in response["HX-Trigger"]
    section = client.get(f"/customers/{customer.pk}/contacts/", HTTP_HX_REQUEST="true").content.decode()
    assert "陈静" in section and "<html" not in section
    assert "华夏食品有限公司" in client.get("/customers/", {"q": "13912345678"}).content.decode()


def test_a_contact_with_a_bad_phone_keeps_the_dialog_open_with_the_error(browser_as, rep):
    customer = make_customer(rep, name="华夏")
    response = browser_as(rep).post(f"/customers/{customer.pk}/contacts/new/", {"name": "陈静", "role": "other", "phone": "1"},
                                    HTTP_HX_REQUEST="true")
    assert response.context["form"].errors["phone"]
    assert not customer.contacts.exists()


def test_setting_the_referring_customer_lists_only_visible_candidates_and_shows_both_directions(browser_as, rep, other_rep):
    referrer = make_customer(rep, name="李明华")
    make_customer(other_rep, name="李明")  # invisible to rep: never offered
    customer = make_customer(rep, name="王芳")
    client = browser_as(rep)
    candidates = client.get(f"/customers/{customer.pk}/referral/", {"q": "李明"}, HTTP_HX_REQUEST="true").content.decode()
    assert "李明华" in candidates and "李明<" not in candidates and "王芳" not in candidates
    client.post(f"/customers/{customer.pk}/referral/", {"referred_by": referrer.pk}, HTTP_HX_REQUEST="true")
    customer.refresh_from_db()
    assert customer.referred_by == referrer
    assert "王芳" in client.get(f"/customers/{referrer.pk}/").content.decode()  # whom they referred
    assert "李明华" in client.get(f"/customers/{customer.pk}/").content.decode()  # who referred them


def test_an_invisible_customer_cannot_be_named_as_referrer(browser_as, rep, other_rep):
    hidden = make_customer(other_rep, name="秘密客户")
    customer = make_customer(rep, name="王芳")
    response = browser_as(rep).post(f"/customers/{customer.pk}/referral/", {"referred_by": hidden.pk}, HTTP_HX_REQUEST="true")
    assert response.context["form"].errors["referred_by"]
    customer.refresh_from_db()
    assert customer.referred_by is None


def test_the_360_page_never_names_a_referring_customer_the_user_may_not_see(browser_as, rep, other_rep):
    hidden = make_customer(other_rep, name="秘密推荐人")
    customer = make_customer(rep, name="王芳", referred_by=hidden)
    body = browser_as(rep).get(f"/customers/{customer.pk}/").content.decode()
    assert "秘密推荐人" not in body and "do not have access" in body
