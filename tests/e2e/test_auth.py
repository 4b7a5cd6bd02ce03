"""Signing in and choosing the interface language, in a real browser."""

import pytest
from playwright.sync_api import expect

from guanxi.accounts.models import Role
from tests.e2e.conftest import PASSWORD
from tests.factories import make_user

pytestmark = pytest.mark.e2e


def test_a_user_signs_in_with_the_form_and_lands_on_the_dashboard(open_page):
    # Given a sales rep with a password
    make_user(Role.SALES, username="wang")
    page = open_page()
    # When they open Guanxi and sign in
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
    page.get_by_label("Username").fill("wang")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Then they see their dashboard with the navigation
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers")).to_be_visible()


def test_switching_to_chinese_shows_chinese_labels_and_is_remembered(open_page):
    # Given a signed-in user whose browser asks for English
    user = make_user(Role.SALES, username="li")
    page = open_page(user, locale="en-GB")
    page.goto("/customers/")
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    # When they switch the language to Chinese
    page.get_by_role("button", name="中文").click()
    # Then the page speaks Chinese
    expect(page.get_by_role("heading", name="客户")).to_be_visible()
    expect(page.get_by_role("link", name="新建个人客户")).to_be_visible()
    # And the choice is remembered for their next session in another browser
    user.refresh_from_db()
    assert user.language == "zh-hans"
    fresh = open_page(locale="en-GB")
    fresh.goto("/accounts/login/")
    fresh.get_by_label("Username").fill("li")
    fresh.get_by_label("Password").fill(PASSWORD)
    fresh.get_by_role("button", name="Sign in").click()
    expect(fresh.get_by_role("heading", name="仪表盘")).to_be_visible()
