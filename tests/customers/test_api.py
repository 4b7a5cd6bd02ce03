"""The customers API as a client uses it: create, read, list, update, state, history, shares, tags."""

import pytest

from guanxi.customers.models import Customer, StateChange
from guanxi.customers.services import change_state, share_customer
from tests.factories import make_customer


def test_create_customer_returns_201_with_normalised_phone_owned_by_the_creator(rep, api_as):
    # given a sales rep
    # when they create a customer with a phone typed with spaces
    response = api_as(rep).post("/customers", {"name": "李明华", "phone": "138 1234 5678", "tags": ["VIP"]})
    # then it is stored in E.164 and owned by them
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "+8613812345678"
    assert body["owner"]["id"] == rep.pk
    assert body["tags"] == ["VIP"]
    assert body["version"] == 1


def test_list_returns_items_count_and_whether_the_count_is_capped(rep, api_as):
    for name in ("甲", "乙", "丙"):
        make_customer(rep, name=name)

    body = api_as(rep).get("/customers", limit=2).json()

    assert len(body["items"]) == 2
    assert body["count"] == 3
    assert body["count_capped"] is False


def test_list_filters_by_state_tag_and_source(rep, api_as):
    wanted = make_customer(rep, name="要的", state="target", source="referral", tags=["重点"])
    make_customer(rep, name="不要", state="target", source="phone")
    make_customer(rep, name="也不要", state="current", source="referral", tags=["重点"])

    body = api_as(rep).get("/customers", state="target", tag="重点", source="referral").json()

    assert [item["id"] for item in body["items"]] == [wanted.pk]


def test_list_orders_by_name_when_asked(rep, api_as):
    for name in ("Charlie", "Alice", "Bob"):
        make_customer(rep, name=name)

    body = api_as(rep).get("/customers", ordering="name").json()

    assert [item["name"] for item in body["items"]] == ["Alice", "Bob", "Charlie"]


def test_unknown_ordering_is_422_naming_ordering(rep, api_as):
    response = api_as(rep).get("/customers", ordering="password")
    assert response.status_code == 422
    assert "ordering" in str(response.json()["detail"])


@pytest.mark.parametrize("params", [{"limit": 501}, {"limit": 0}, {"offset": -1}])
def test_limit_and_offset_out_of_range_are_422(rep, api_as, params):
    assert api_as(rep).get("/customers", **params).status_code == 422


def test_offset_beyond_ten_thousand_is_422_telling_to_narrow_the_filter(rep, api_as):
    response = api_as(rep).get("/customers", offset=10_001)
    assert response.status_code == 422
    assert "narrow" in str(response.json()["detail"])


def test_patch_with_current_version_updates_and_bumps_version(rep, api_as):
    customer = make_customer(rep, name="旧名")

    response = api_as(rep).patch(f"/customers/{customer.pk}", {"name": "新名", "version": customer.version})

    assert response.status_code == 200
    assert response.json()["name"] == "新名"
    assert response.json()["version"] == customer.version + 1


def test_patch_with_stale_version_is_409_and_keeps_the_first_writers_data(rep, api_as):
    # given two editors who loaded version 1
    customer = make_customer(rep, name="原名")
    client = api_as(rep)
    first = client.patch(f"/customers/{customer.pk}", {"city": "上海", "version": 1})
    assert first.status_code == 200
    # when the second saves with the version they loaded
    second = client.patch(f"/customers/{customer.pk}", {"city": "北京", "version": 1})
    # then they get 409 with the current version, and the first edit stands
    assert second.status_code == 409
    assert second.json()["current_version"] == 2
    assert Customer.objects.get(pk=customer.pk).city == "上海"


def test_patch_without_version_is_422_naming_version(rep, api_as):
    customer = make_customer(rep)
    response = api_as(rep).patch(f"/customers/{customer.pk}", {"city": "上海"})
    assert response.status_code == 422
    assert "version" in str(response.json()["detail"])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "客户", "phone": "12345"}, "phone"),
        ({"name": "客\x00户"}, "name"),
        ({"name": "客户", "employees": 2**70}, "employees"),
        ({"name": "客户", "payment_days": 10**6}, "payment_days"),
        ({"name": "客户", "profile": {"basic": {"shoe_size": "42"}}}, "profile.basic"),
        ({"name": "客户", "profile": {"astrology": {}}}, "profile"),
        ({"name": "客户", "email": "not-an-email"}, "email"),
        ({"name": "客户", "gender": "q"}, "gender"),
        ({"name": "客户", "kind": "robot"}, "kind"),
        ({"name": "客户", "favourite_colour": "red"}, "favourite_colour"),
        ({"name": "x" * 201}, "name"),
        ({"name": "客户", "custom_fields": {"nope": 1}}, "custom_fields.nope"),
        ({"name": "客户", "credit_limit": "1e20"}, "credit_limit"),
        ({"name": "客户", "referred_by": 2**64}, "referred_by"),
    ],
)
def test_bad_input_on_create_is_422_naming_the_field(rep, api_as, payload, field):
    response = api_as(rep).post("/customers", payload)
    assert response.status_code == 422, response.content
    assert field in str(response.json()["detail"])
    assert not Customer.objects.exists()


def test_duplicate_phone_in_another_format_is_refused_with_the_existing_customer_named(rep, api_as):
    existing = make_customer(rep, name="王芳", phone="+8613812345678")

    response = api_as(rep).post("/customers", {"name": "王芳2", "phone": "138-1234-5678"})

    assert response.status_code == 409
    assert f"#{existing.pk}" in str(response.json()["detail"])
    assert "phone" in str(response.json()["detail"])


def test_invalid_credit_code_is_422_naming_uscc(rep, api_as):
    response = api_as(rep).post("/customers", {"name": "某公司", "kind": "organisation", "uscc": "91350100M000100Y44"})
    assert response.status_code == 422
    assert "uscc" in str(response.json()["detail"])


def test_huge_id_in_the_path_is_422_not_500(rep, api_as):
    assert api_as(rep).get(f"/customers/{2**70}").status_code == 422


def test_state_change_is_recorded_in_history_with_reason_and_actor(rep, api_as):
    customer = make_customer(rep, state="potential")
    client = api_as(rep)

    response = client.post(f"/customers/{customer.pk}/state", {"to": "target", "reason": "预算已批"})
    history = client.get(f"/customers/{customer.pk}/history").json()

    assert response.status_code == 200
    assert response.json()["state"] == "target"
    newest = history["items"][0]
    assert (newest["from_state"], newest["to_state"], newest["reason"]) == ("potential", "target", "预算已批")
    assert newest["actor"]["id"] == rep.pk
    assert history["count"] == 2  # creation + this move


def test_losing_a_customer_requires_a_reason(rep, api_as):
    customer = make_customer(rep, state="current")
    response = api_as(rep).post(f"/customers/{customer.pk}/state", {"to": "lost", "reason": "价格"})
    assert response.status_code == 422
    assert "reason_category" in str(response.json()["detail"])
    assert not StateChange.objects.filter(customer=customer, to_state="lost").exists()


def test_an_unknown_reason_category_is_a_422_and_nothing_changes(rep, api_as):
    customer = make_customer(rep, state="current")
    response = api_as(rep).post(f"/customers/{customer.pk}/state", {"to": "lost", "reason_category": "weather"})
    assert response.status_code == 422
    assert "reason_category" in str(response.json()["detail"])
    customer.refresh_from_db()
    assert customer.state == "current"


def test_losing_a_customer_stores_the_reason_category_and_shows_it_in_the_history(rep, api_as):
    customer = make_customer(rep, state="current")
    client = api_as(rep)
    response = client.post(f"/customers/{customer.pk}/state", {"to": "lost", "reason_category": "competitor", "reason": "转向对手"})
    assert response.status_code == 200 and response.json()["state"] == "lost"
    newest = client.get(f"/customers/{customer.pk}/history").json()["items"][0]
    assert (newest["reason_category"], newest["reason"]) == ("competitor", "转向对手")


def test_sharing_lets_another_rep_see_the_customer_and_unsharing_hides_it_again(rep, other_rep, api_as):
    customer = make_customer(rep)
    owner, colleague = api_as(rep), api_as(other_rep)

    assert owner.post(f"/customers/{customer.pk}/share", {"user_id": other_rep.pk}).status_code == 201
    assert colleague.get(f"/customers/{customer.pk}").status_code == 200

    assert owner.delete(f"/customers/{customer.pk}/share?user_id={other_rep.pk}").status_code == 204
    assert colleague.get(f"/customers/{customer.pk}").status_code == 404


def test_tags_list_counts_only_visible_customers(rep, other_rep, api_as):
    make_customer(rep, tags=["重点"])
    make_customer(other_rep, tags=["重点"])

    body = api_as(rep).get("/tags").json()

    assert [(t["name"], t["customer_count"]) for t in body["items"]] == [("重点", 1)]


def test_list_query_count_does_not_grow_with_page_size(rep, api_as, django_assert_max_num_queries):
    # given 5 customers, then 30 (each with tags, an owner and a team)
    client = api_as(rep)
    client.get("/me")  # the token's first use records last_used_at; keep that write out of the count
    for i in range(5):
        make_customer(rep, tags=["a", f"t{i}"])
    with django_assert_max_num_queries(8) as small:
        assert len(client.get("/customers", limit=100).json()["items"]) == 5
    for i in range(25):
        make_customer(rep, tags=["a", f"u{i}"])
    # when the page holds six times as many rows
    with django_assert_max_num_queries(8) as large:
        assert len(client.get("/customers", limit=100).json()["items"]) == 30
    # then the number of queries is the same
    assert len(large.captured_queries) == len(small.captured_queries)


def test_history_of_a_shared_customer_is_visible_to_the_colleague(rep, other_rep, api_as):
    customer = make_customer(rep)
    change_state(customer=customer, to="target", reason="", actor=rep)
    share_customer(customer=customer, user=other_rep, actor=rep)

    assert api_as(other_rep).get(f"/customers/{customer.pk}/history").json()["count"] == 2


def test_detail_query_count_does_not_grow_with_tags(rep, api_as, django_assert_max_num_queries):
    client = api_as(rep)
    client.get("/me")
    few = make_customer(rep, tags=["a"])
    many = make_customer(rep, tags=[f"t{i}" for i in range(20)])
    with django_assert_max_num_queries(6) as one:
        assert client.get(f"/customers/{few.pk}").status_code == 200
    with django_assert_max_num_queries(6) as twenty:
        assert len(client.get(f"/customers/{many.pk}").json()["tags"]) == 20
    assert len(one.captured_queries) == len(twenty.captured_queries)
