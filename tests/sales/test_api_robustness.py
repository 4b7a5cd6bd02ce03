"""No input makes the sales and engagement API answer 5xx: arbitrary JSON values in every field."""

import json
from decimal import Decimal

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from guanxi.accounts.models import Role
from guanxi.accounts.tokens import create_token
from guanxi.sales import services
from tests.factories import make_customer, make_user

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.sampled_from(["", "\x00", "1.005", "-1", "1e40", "NaN", "2026-02-30", "2026-01-01T00:00:00", "0001-01-01"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def body(fields: dict):
    """Payloads built from realistic keys, each with a random (often wrong) value, plus stray keys."""
    return st.fixed_dictionaries({}, optional={key: st.one_of(values, st.just(good)) for key, good in fields.items()})


class ApiNeverFailsWith5xx(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = make_user(Role.ADMIN, username="fuzz_admin")
        cls.rep = make_user(Role.SALES, username="fuzz_rep")
        cls.customer = make_customer(cls.rep)
        cls.product = services.create_product(actor=cls.admin, sku="F-1", name="F", list_price=Decimal("10.00"))
        cls.order = services.create_order(customer=cls.customer, actor=cls.rep, lines=[{"product": cls.product}])

    def setUp(self):
        _token, raw = create_token(user=self.rep)
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def send(self, method: str, path: str, payload) -> None:
        response = getattr(self.client, method)(f"/api/v1{path}", data=json.dumps(payload), content_type="application/json")
        assert response.status_code < 500, (path, payload, response.content[:300])

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payload=body({"customer": 1, "lines": [{"product": 1, "quantity": "1"}], "order_date": "2026-01-01",
                         "promised_delivery": "2026-01-05", "opportunity": None, "status": "draft", "notes": ""}))
    def test_create_order(self, payload):
        payload.setdefault("customer", self.customer.pk)
        self.send("post", "/orders", payload)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(lines=st.lists(body({"product": 1, "quantity": "2", "unit_price": "9.99"}), min_size=1, max_size=3))
    def test_order_lines(self, lines):
        self.send("post", "/orders", {"customer": self.customer.pk, "lines": lines})

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payload=body({"customer": 1, "amount": "1.00", "order": 1, "paid_on": "2026-01-01", "method": "cash", "reference": ""}))
    def test_record_payment(self, payload):
        payload.setdefault("customer", self.customer.pk)
        self.send("post", "/payments", payload)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payload=body({"version": 1, "reason": "", "delivered_on": "2026-01-01"}), action=st.sampled_from(["cancel", "deliver"]))
    def test_order_actions(self, payload, action):
        self.send("post", f"/orders/{self.order.pk}/{action}", payload)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payload=body({"customer": 1, "channel": "phone", "direction": "in", "subject": "x", "content_type": "opinion",
                         "phase": "after", "body": "", "occurred_at": "2026-01-01T10:00:00+08:00", "contact": None}))
    def test_log_interaction(self, payload):
        payload.setdefault("customer", self.customer.pk)
        self.send("post", "/interactions", payload)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payload=body({"title": "x", "assignee": 1, "assignee_team": None, "due_at": "2026-01-01T10:00:00",
                         "customer": None, "opportunity": None, "priority": 2, "description": ""}))
    def test_create_task(self, payload):
        self.send("post", "/tasks", payload)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(params=st.dictionaries(
        st.sampled_from(["limit", "offset", "status", "customer", "owner", "date_from", "date_to", "search", "stage",
                         "mine", "due", "channel", "direction", "before"]),
        st.text(max_size=25), max_size=4),
        path=st.sampled_from(["/orders", "/opportunities", "/payments", "/interactions", "/tasks", "/products",
                              "/stages", "/sales-plans", "/customers/1/timeline"]))
    def test_list_query_strings(self, params, path):
        response = self.client.get(f"/api/v1{path}", params)
        assert response.status_code < 500, (path, params, response.content[:300])
