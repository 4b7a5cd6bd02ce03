"""`guanxi token`: a token printed once that authenticates at the API, and its revocation."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from guanxi.accounts.models import ApiToken


def create_token(username: str) -> str:
    out = io.StringIO()
    call_command("token", "create", username, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_a_created_token_authenticates_at_the_api(rep):
    token = create_token(rep.username)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == rep.username


def test_only_the_digest_of_the_token_is_stored(rep):
    token = create_token(rep.username)
    stored = ApiToken.objects.get(user=rep)
    assert token not in (stored.digest, stored.prefix) and token.startswith(stored.prefix)


def test_a_revoked_token_no_longer_authenticates(rep):
    token = create_token(rep.username)
    call_command("token", "revoke", token[:10], stdout=io.StringIO())
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/me")
    assert response.status_code == 401


def test_list_shows_prefixes_but_never_the_secret(rep):
    token = create_token(rep.username)
    out = io.StringIO()
    call_command("token", "list", rep.username, stdout=out)
    assert token[:10] in out.getvalue() and token not in out.getvalue()


def test_an_unknown_user_is_a_clear_error_naming_them(db):
    with pytest.raises(CommandError, match="nobody"):
        call_command("token", "create", "nobody", stdout=io.StringIO())
    assert not ApiToken.objects.exists()
