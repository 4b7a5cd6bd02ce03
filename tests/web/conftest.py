import pytest
from django.test import Client


@pytest.fixture
def browser_as():
    """`browser_as(user)` → a test client signed in as `user` (a browser session, not a token).

    It asks for English, so assertions can name the English text; the Chinese pages are
    checked in the browser tests.
    """

    def _client(user, **kwargs):
        client = Client(**{"HTTP_ACCEPT_LANGUAGE": "en", **kwargs})
        client.force_login(user)
        return client

    return _client
