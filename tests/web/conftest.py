import pytest
from django.test import Client


@pytest.fixture
def browser_as():
    """`browser_as(user)` → a test client signed in as `user` (a browser session, not a token)."""

    def _client(user, **kwargs):
        client = Client(**kwargs)
        client.force_login(user)
        return client

    return _client
