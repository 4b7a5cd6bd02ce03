"""No input, however odd, makes the customers API answer with a 5xx."""

import json

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from guanxi.accounts.models import Role
from guanxi.accounts.tokens import create_token
from tests.factories import make_customer, make_user

FIELDS = ["name", "phone", "email", "uscc", "kind", "state", "employees", "payment_days", "credit_limit", "birthday",
          "profile", "custom_fields", "tags", "referred_by", "team", "owner", "version", "notes", "gender", "source"]
values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats(allow_nan=True)
    | st.text(max_size=300),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
payloads = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values, max_size=6)
query_values = st.text(max_size=30) | st.integers(min_value=-(2**70), max_value=2**70).map(str)


class NoServerErrors(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.rep = make_user(Role.SALES, username="fuzz_rep")
        cls.customer = make_customer(cls.rep, name="李明华")
        cls.client_ = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=cls.rep)[1]}")

    def _ok(self, response):
        assert response.status_code < 500, (response.status_code, response.content[:500])

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payloads)
    def test_create_and_patch_never_fail_with_5xx(self, payload):
        body = json.dumps(payload, default=str)
        self._ok(self.client_.post("/api/v1/customers", body, content_type="application/json"))
        self._ok(self.client_.patch(f"/api/v1/customers/{self.customer.pk}", body, content_type="application/json"))
        self._ok(self.client_.post(f"/api/v1/customers/{self.customer.pk}/contacts", body, content_type="application/json"))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.dictionaries(st.sampled_from(["search", "state", "owner", "tag", "source", "ordering", "limit", "offset"]), query_values))
    def test_list_filters_never_fail_with_5xx(self, params):
        self._ok(self.client_.get("/api/v1/customers", params))

    @settings(max_examples=30, deadline=None)
    @given(st.text(min_size=1, max_size=30))
    def test_odd_path_ids_never_fail_with_5xx(self, raw):
        from urllib.parse import quote

        self._ok(self.client_.get(f"/api/v1/customers/{quote(raw, safe='')}"))
