"""The customer screens in a real browser: search, create, edit conflicts, quick actions, visibility."""

import re

import pytest
from playwright.sync_api import expect

from guanxi.accounts.models import Role
from guanxi.customers.models import Customer
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.e2e


@pytest.fixture
def rep(db):
    return make_user(Role.SALES, username="rep_e2e")


def test_global_search_finds_a_chinese_name_by_a_character_and_by_pinyin_initials(open_page, rep):
    # Given customers 李明华 and Alice Smith
    make_customer(rep, name="李明华", phone="13812345678")
    make_customer(rep, name="Alice Smith")
    page = open_page(rep)
    page.goto("/")
    search = page.get_by_role("searchbox", name="Search customers")
    results = page.locator("#global-search-results")
    # When the rep types one character of the name
    search.fill("明")
    # Then 李明华 shows up in the live results, and Alice does not
    expect(results.get_by_role("link", name=re.compile("李明华"))).to_be_visible()
    expect(results.get_by_text("Alice Smith")).to_have_count(0)
    # When they type the pinyin initials instead
    search.fill("lmh")
    expect(results.get_by_role("link", name=re.compile("李明华"))).to_be_visible()
    # And a click opens the customer's page
    results.get_by_role("link", name=re.compile("李明华")).click()
    expect(page.get_by_role("heading", name="李明华", level=1)).to_be_visible()


def test_creating_a_customer_with_a_bad_phone_shows_the_error_then_a_good_phone_creates_it(open_page, rep):
    page = open_page(rep)
    page.goto("/customers/new/?kind=person")
    # When the rep enters a name and a phone number that cannot exist
    page.get_by_label(re.compile(r"^Name")).fill("张伟")
    page.get_by_label("Phone", exact=True).fill("12345")
    page.locator("#section-life summary").click()  # profile sections fold open on demand
    page.get_by_label("Hobbies").fill("围棋，登山")
    page.get_by_role("button", name="Create customer").click()
    # Then the error appears next to the phone field and their input is kept
    expect(page.locator("#field-phone .errorlist")).to_contain_text("not a valid phone number")
    expect(page.get_by_label(re.compile(r"^Name"))).to_have_value("张伟")
    assert not Customer.objects.filter(name="张伟").exists()
    # When they correct the phone
    page.get_by_label("Phone", exact=True).fill("138 1234 5678")
    page.get_by_role("button", name="Create customer").click()
    # Then the customer exists, with the profile list saved, and their 360° page opens
    expect(page.get_by_role("heading", name="张伟", level=1)).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("created")
    customer = Customer.objects.get(name="张伟")
    assert customer.phone == "+8613812345678"
    assert customer.profile["life"]["hobbies"] == ["围棋", "登山"]


def test_a_bad_phone_is_flagged_as_soon_as_the_user_leaves_the_field(open_page, rep):
    page = open_page(rep)
    page.goto("/customers/new/?kind=person")
    # When the rep types an impossible phone number and moves on to the next field
    page.get_by_label("Phone", exact=True).fill("12345")
    page.get_by_label("Phone", exact=True).press("Tab")
    # Then the error appears beside the phone field before anything is submitted
    expect(page.locator("#field-phone .errorlist")).to_contain_text("not a valid phone number")
    # And correcting it clears the error
    page.get_by_label("Phone", exact=True).fill("13812345678")
    page.get_by_label("Phone", exact=True).press("Tab")
    expect(page.locator("#field-phone .errorlist")).to_have_count(0)


def test_a_second_save_of_the_same_version_shows_both_versions_and_loses_nothing(open_page, rep):
    # Given two browser windows editing the same customer
    customer = make_customer(rep, name="赵敏", city="上海")
    first, second = open_page(rep), open_page(rep)
    for page in (first, second):
        page.goto(f"/customers/{customer.pk}/edit/")
    # When the first saves a new city
    first.get_by_label("City", exact=True).fill("北京")
    first.get_by_role("button", name="Save changes").click()
    expect(first.get_by_role("heading", name="赵敏", level=1)).to_be_visible()
    # And the second, still on the old version, saves a different city and a note
    second.get_by_label("City", exact=True).fill("杭州")
    second.get_by_label("Notes").fill("喜欢喝龙井")
    second.get_by_role("button", name="Save changes").click()
    # Then the second sees the conflict: their input beside the saved value, nothing overwritten
    conflict = second.locator("#conflict")
    expect(conflict).to_be_visible()
    city_row = conflict.locator("tr[data-field=city]")
    expect(city_row.locator(".yours")).to_have_text("杭州")
    expect(city_row.locator(".theirs")).to_have_text("北京")
    expect(second.get_by_label("City", exact=True)).to_have_value("杭州")
    expect(second.get_by_label("Notes")).to_have_value("喜欢喝龙井")
    customer.refresh_from_db()
    assert customer.city == "北京"
    # And saving again, knowingly, applies their values on top of the new version
    second.get_by_role("button", name="Save changes").click()
    expect(second.get_by_role("heading", name="赵敏", level=1)).to_be_visible()
    customer.refresh_from_db()
    assert (customer.city, customer.notes, customer.version) == ("杭州", "喜欢喝龙井", 3)


def test_logging_an_interaction_from_the_360_page_puts_it_on_the_timeline(open_page, rep):
    customer = make_customer(rep, name="孙丽")
    page = open_page(rep)
    page.goto(f"/customers/{customer.pk}/")
    # When the rep logs a phone call in the quick-action dialog
    page.get_by_role("button", name="Log interaction").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Subject").fill("回访：新品试用反馈")
    dialog.get_by_role("button", name="Log interaction").click()
    # Then the dialog closes and the call is on the timeline without leaving the page
    expect(dialog).to_be_hidden()
    expect(page.locator("#timeline")).to_contain_text("回访：新品试用反馈")
    assert page.url.endswith(f"/customers/{customer.pk}/")


def test_a_sales_rep_cannot_open_another_reps_customer(open_page, watch, rep):
    # Given a customer owned by another rep
    other = make_user(Role.SALES, username="rep_other")
    hidden = make_customer(other, name="秘密客户")
    page = open_page(rep)
    watch.expect_status(404)
    # When the rep opens its address directly
    response = page.goto(f"/customers/{hidden.pk}/")
    # Then it does not exist for them
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("秘密客户")).to_have_count(0)


def test_changing_state_to_lost_asks_for_the_reason_and_records_it_in_the_history(open_page, rep):
    customer = make_customer(rep, name="周强")
    page = open_page(rep)
    page.goto(f"/customers/{customer.pk}/")
    # When the rep marks the customer lost without saying why
    page.get_by_role("button", name="Change state").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New state").select_option("lost")
    dialog.get_by_role("button", name="Change state").click()
    # Then the dialog asks for the reason
    expect(dialog.locator("#field-reason_category .errorlist")).to_be_visible()
    # When they give one
    dialog.get_by_label("Why lost").select_option("competitor")
    dialog.get_by_label("Reason").fill("转向竞争对手")
    dialog.get_by_role("button", name="Change state").click()
    # Then the page shows the new state and the reason in the lifecycle history
    expect(page.locator(".header-360 .badge")).to_have_text("Lost")
    expect(page.get_by_role("region", name="Lifecycle")).to_contain_text("转向竞争对手")
