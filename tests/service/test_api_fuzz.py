"""Arbitrary JSON to every complaint and service write never yields a 5xx (hypothesis)."""

import json

from django.test import Client
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from hypothesis.extra.django import TestCase

from guanxi.accounts.tokens import create_token
from guanxi.engagement.models import Channel
from guanxi.service import services
from guanxi.service.workflow import TRANSITIONS
from tests.factories import make_customer, make_department, make_user

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=6)
FIELDS = ["version", "customer", "channel", "category", "caused_by", "concerns", "severity", "reaction", "description", "note",
          "reason", "department", "handler", "cause", "solution", "remedy_amount", "message", "rating", "responsible_person",
          "measure", "evaluation", "product", "order", "create_customer_from_contact", "contact_email", "kind", "partner",
          "technician", "visit_at", "resolution"]
payloads = st.dictionaries(st.sampled_from(FIELDS), values, max_size=8)


class ComplaintApiNeverFails(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.agent = make_user("service", username="fuzz_agent", department=make_department("服务部"))
        rep = make_user("sales", username="fuzz_rep")
        cls.customer = make_customer(rep, email="fuzz@example.com")
        cls.complaint = services.receive_complaint(actor=cls.agent, customer=cls.customer, channel=Channel.HOTLINE, description="x")
        _token, raw = create_token(user=cls.agent, name="fuzz")
        cls.auth = f"Bearer {raw}"

    def post(self, path, body):
        return Client(HTTP_AUTHORIZATION=self.auth).post(f"/api/v1{path}", data=json.dumps(body), content_type="application/json")

    @hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(action=st.sampled_from(sorted(TRANSITIONS) + ["explode"]), body=payloads)
    def test_a_move_with_any_body(self, action, body):
        assert self.post(f"/complaints/{self.complaint.pk}/actions/{action}", body).status_code < 500

    @hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=payloads)
    def test_intake_and_tickets_with_any_body(self, body):
        assert self.post("/complaints", body).status_code < 500
        assert self.post("/service-tickets", body).status_code < 500
        assert self.post("/dissatisfactions", body).status_code < 500
