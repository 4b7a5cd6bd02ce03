"""Search as users type it: Chinese fragments, pinyin, initials, phones in any format, e-mail."""

import pytest

from guanxi.customers.services import create_contact
from tests.factories import make_customer


def _found(api, q):
    return [item["name"] for item in api.get("/customers", search=q).json()["items"]]


@pytest.mark.parametrize("q", ["明", "李明华", "明华", "liminghua", "lmh", "LMH", "minghua"])
def test_chinese_name_is_found_by_fragment_pinyin_and_initials(rep, api_as, q):
    make_customer(rep, name="李明华")
    make_customer(rep, name="王芳")
    assert _found(api_as(rep), q) == ["李明华"]


@pytest.mark.parametrize("q", ["zeng", "zengguofan", "zgf", "曾"])
def test_heteronym_surname_zeng_is_found_by_its_surname_reading(rep, api_as, q):
    make_customer(rep, name="曾国藩")
    assert _found(api_as(rep), q) == ["曾国藩"]


@pytest.mark.parametrize("q", ["138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "13812345678", "5678"])
def test_phone_typed_in_any_format_finds_the_customer(rep, api_as, q):
    make_customer(rep, name="张伟", phone="+8613812345678")
    assert _found(api_as(rep), q) == ["张伟"]


def test_email_and_latin_fragments_find_the_customer(rep, api_as):
    make_customer(rep, name="Acme Trading", email="Buyer@Acme.example")
    api = api_as(rep)
    assert _found(api, "buyer@acme.example") == ["Acme Trading"]
    assert _found(api, "acme") == ["Acme Trading"]
    assert _found(api, "trad") == ["Acme Trading"]


def test_a_contacts_phone_and_name_find_their_customer(rep, api_as):
    customer = make_customer(rep, name="华东贸易有限公司", kind="organisation")
    create_contact(customer=customer, actor=rep, name="陈静", phone="13700001111")
    api = api_as(rep)
    assert _found(api, "137 0000 1111") == ["华东贸易有限公司"]
    assert _found(api, "陈静") == ["华东贸易有限公司"]


def test_search_respects_visibility(rep, other_rep, api_as):
    make_customer(rep, name="李明华")
    make_customer(other_rep, name="李明亮")
    assert _found(api_as(rep), "李明") == ["李明华"]


def test_search_combines_with_filters(rep, api_as):
    make_customer(rep, name="李明华", state="current")
    make_customer(rep, name="李明亮", state="lost", reason="搬家")
    body = api_as(rep).get("/customers", search="李明", state="current").json()
    assert [item["name"] for item in body["items"]] == ["李明华"]
    assert body["count"] == 1
