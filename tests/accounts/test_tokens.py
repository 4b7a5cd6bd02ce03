"""API tokens: shown once, stored as a hash, revocable, with a last-used time."""

import hashlib

from django.test import Client

from guanxi.accounts.models import ApiToken


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(rep, api_as):
    api = api_as(rep)

    response = api.post("/tokens", {"name": "报表脚本"})

    assert response.status_code == 201
    raw = response.json()["token"]
    assert raw.startswith("gx_")
    stored = ApiToken.objects.get(pk=response.json()["id"])
    assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.digest, stored.prefix, stored.name}
    listed = api.get("/tokens").json()["items"]
    assert all("token" not in item for item in listed)
    assert response.json()["prefix"] in [item["prefix"] for item in listed]


def test_a_new_token_authenticates_and_records_when_it_was_last_used(rep, api_as):
    raw = api_as(rep).post("/tokens", {"name": "cli"}).json()["token"]

    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["username"] == rep.username
    assert ApiToken.objects.get(prefix=raw[:10]).last_used_at is not None


def test_a_revoked_token_is_refused_with_401(rep, api_as):
    api = api_as(rep)
    created = api.post("/tokens", {"name": "old"}).json()

    assert api.delete(f"/tokens/{created['id']}").status_code == 204

    response = Client(HTTP_AUTHORIZATION=f"Bearer {created['token']}").get("/api/v1/me")
    assert response.status_code == 401
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is not None


def test_a_user_cannot_see_or_revoke_anyone_elses_token(rep, other_rep, api_as):
    theirs = api_as(other_rep).post("/tokens", {"name": "theirs"}).json()
    api = api_as(rep)

    assert theirs["id"] not in [item["id"] for item in api.get("/tokens").json()["items"]]
    assert api.delete(f"/tokens/{theirs['id']}").status_code == 404
    assert ApiToken.objects.get(pk=theirs["id"]).revoked_at is None


def test_a_token_of_a_deactivated_user_is_refused(rep, api_as):
    api = api_as(rep)
    rep.is_active = False
    rep.save()
    assert api.get("/me").status_code == 401


def test_a_malformed_or_unknown_token_is_401(db):
    for value in ("Bearer nope", "Bearer gx_" + "x" * 43, "Bearer " + "gx_" * 100, "Basic abc"):
        assert Client(HTTP_AUTHORIZATION=value).get("/api/v1/me").status_code == 401


def test_token_name_with_nul_is_422_naming_name(rep, api_as):
    response = api_as(rep).post("/tokens", {"name": "a\x00b"})
    assert response.status_code == 422
    assert "name" in str(response.json()["detail"])


def test_me_shows_the_role(rep, api_as):
    assert api_as(rep).get("/me").json()["role"] == "sales"
