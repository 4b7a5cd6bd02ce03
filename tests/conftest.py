"""Shared fixtures: people in every role, and an API client that sends a bearer token.

Django is imported inside the fixtures so that tests/analytics also runs without Django
(`pytest tests/analytics -p no:django`).
"""

import json

import pytest


def make_department(*args, **kwargs):
    from tests.factories import make_department

    return make_department(*args, **kwargs)


def make_team(*args, **kwargs):
    from tests.factories import make_team

    return make_team(*args, **kwargs)


def make_user(*args, **kwargs):
    from tests.factories import make_user

    return make_user(*args, **kwargs)


@pytest.fixture
def department(db):
    return make_department("销售部")


@pytest.fixture
def team(department):
    return make_team("华东组", department)


@pytest.fixture
def other_team(department):
    return make_team("华南组", department)


@pytest.fixture
def admin_user(db):
    return make_user("admin", username="admin")


@pytest.fixture
def rep(team):
    return make_user("sales", username="rep_a", team=team)


@pytest.fixture
def other_rep(other_team):
    return make_user("sales", username="rep_b", team=other_team)


@pytest.fixture
def manager(team, department):
    return make_user("manager", username="manager", team=team)


@pytest.fixture
def service_agent(db):
    return make_user("service", username="agent")


@pytest.fixture
def analyst(db):
    return make_user("analyst", username="analyst")


class ApiClient:
    """JSON requests with `Authorization: Bearer <token>` against the real URL configuration."""

    def __init__(self, user):
        from django.test import Client

        from guanxi.accounts.tokens import create_token

        self.user = user
        _token, self.raw_token = create_token(user=user, name="tests")
        # Messages are asserted in English; the site default is Chinese.
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {self.raw_token}", HTTP_ACCEPT_LANGUAGE="en")

    def _send(self, method, path, data=None, **params):
        kwargs = {"content_type": "application/json"}
        if data is not None:
            kwargs["data"] = json.dumps(data, default=str)
        elif params:
            kwargs["data"] = params
            kwargs.pop("content_type")
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path, **params):
        return self._send("get", path, **params)

    def post(self, path, data=None):
        return self._send("post", path, data if data is not None else {})

    def patch(self, path, data):
        return self._send("patch", path, data)

    def put(self, path, data):
        return self._send("put", path, data)

    def delete(self, path):
        return self._send("delete", path)


@pytest.fixture
def api_as():
    """`api_as(user)` → a client authenticated as that user."""
    return ApiClient
