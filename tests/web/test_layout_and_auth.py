"""The frame around every page: sign-in, throttling, language, navigation, global search, 404."""

import re

import pytest
from django.test import Client

from guanxi.accounts.models import Role
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


def test_pages_need_a_signed_in_user():
    response = Client().get("/customers/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_repeated_wrong_passwords_lock_sign_in_with_a_clear_page(rep):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(5):
        client.post("/accounts/login/", {"username": rep.username, "password": "wrong"})
    response = client.post("/accounts/login/", {"username": rep.username, "password": "pass-word-123"})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


def test_signing_in_starts_the_session_in_the_users_language(rep):
    rep.language = "en"
    rep.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    client.post("/accounts/login/", {"username": rep.username, "password": "pass-word-123"})
    assert client.get("/").headers["Content-Language"] == "en"


def test_the_language_switch_is_remembered_for_the_user(browser_as, rep):
    client = browser_as(rep)
    client.post("/accounts/language/", {"language": "zh-hans", "next": "/customers/"})
    rep.refresh_from_db()
    assert rep.language == "zh-hans"
    assert client.get("/customers/").headers["Content-Language"] == "zh-hans"


def test_the_language_switch_never_redirects_off_site(browser_as, rep):
    response = browser_as(rep).post("/accounts/language/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_administration_is_in_the_navigation_only_for_administrators(browser_as, rep, admin_user):
    assert 'href="/admin/"' not in browser_as(rep).get("/").content.decode()
    assert 'href="/admin/"' in browser_as(admin_user).get("/").content.decode()


def test_every_navigation_link_answers(browser_as, admin_user):
    client = browser_as(admin_user)
    links = re.findall(r'<nav class="sidenav".*?</nav>', client.get("/customers/").content.decode(), re.S)[0]
    paths = re.findall(r'href="([^"]+)"', links)
    assert len(paths) >= 7
    assert {path: client.get(path).status_code for path in paths} == {path: 200 for path in paths}


def test_global_search_lists_visible_matches_as_a_fragment(browser_as, rep, other_rep):
    make_customer(rep, name="李明华")
    make_customer(other_rep, name="李明")
    response = browser_as(rep).get("/search/", {"q": "lm"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "李明华" in body and "李明<" not in body
    assert "<html" not in body and "HX-Request" in response["Vary"]


def test_global_search_without_htmx_goes_to_the_customer_list(browser_as, rep):
    response = browser_as(rep).get("/search/", {"q": "明"})
    assert response.status_code == 302 and response["Location"].startswith("/customers/?q=")


def test_pages_carry_a_csp_nonce_on_scripts_and_no_inline_styles(browser_as, rep):
    response = browser_as(rep).get("/customers/")
    body = response.content.decode()
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "style=" not in body
    assert all("nonce=" in tag for tag in body.split("<script")[1:])


def test_an_unknown_page_is_the_html_404(browser_as, rep):
    response = browser_as(rep).get("/no-such-page/")
    assert response.status_code == 404 and "Not found" in response.content.decode()


def test_a_manager_sees_the_team_customers_in_the_list(browser_as, manager, rep):
    make_customer(rep, name="团队客户")
    assert "团队客户" in browser_as(manager).get("/customers/").content.decode()


def test_a_service_agent_cannot_open_the_new_customer_form(browser_as):
    agent = make_user(Role.SERVICE, username="svc")
    assert browser_as(agent).get("/customers/new/").status_code == 403


def test_a_user_changes_their_password_and_signs_in_with_the_new_one(browser_as, rep):
    client = browser_as(rep)
    response = client.post("/accounts/password/", {
        "old_password": "pass-word-123", "new_password1": "新的-Passw0rd-2026", "new_password2": "新的-Passw0rd-2026",
    }, follow=True)
    assert "Your password was changed." in response.content.decode()
    signed_in = Client().post("/accounts/login/", {"username": rep.username, "password": "新的-Passw0rd-2026"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"


def test_signing_out_is_a_post_and_ends_the_session(browser_as, rep):
    client = browser_as(rep)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/customers/").status_code == 302
