import pytest

from tests.factories import make_customer


@pytest.fixture
def current_customer(rep):
    return make_customer(rep, name="李明华", state="current", email="lmh@example.com")
