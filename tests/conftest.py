"""Shared fixtures: people in every role, and an API client that sends a bearer token."""

import json

import pytest
from django.test import Client

from guanxi.accounts.models import Role
from guanxi.accounts.tokens import create_token
from tests.factories import make_department, make_team, make_user


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
    return make_user(Role.ADMIN, username="admin")


@pytest.fixture
def rep(team):
    return make_user(Role.SALES, username="rep_a", team=team)


@pytest.fixture
def other_rep(other_team):
    return make_user(Role.SALES, username="rep_b", team=other_team)


@pytest.fixture
def manager(team, department):
    return make_user(Role.MANAGER, username="manager", team=team)


@pytest.fixture
def service_agent(db):
    return make_user(Role.SERVICE, username="agent")


@pytest.fixture
def analyst(db):
    return make_user(Role.ANALYST, username="analyst")


class ApiClient:
    """JSON requests with `Authorization: Bearer <token>` against the real URL configuration."""

    def __init__(self, user):
        self.user = user
        _token, self.raw_token = create_token(user=user, name="tests")
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {self.raw_token}")

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
