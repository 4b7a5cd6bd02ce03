"""The public complaint form: no login, CSRF on, bots and bad input refused, valid submissions never lost."""

import pytest
from django.test import Client
from hypothesis import given, settings as hsettings, strategies as st
from hypothesis.extra.django import TestCase

from guanxi.messaging.models import OutboundEmail
from guanxi.service.models import Complaint, Status
from tests.smtp import run_mail_worker

VALID = {"name": "Wang Fang", "email": "wang@example.com", "phone": "", "order_number": "", "category": "delivery",
         "description": "The parcel arrived two weeks late and the box was crushed.", "desired_outcome": "A refund of the shipping fee.",
         "website": ""}


@pytest.fixture(autouse=True)
def private_cache(settings):
    """The rate limit counts in the cache: give each test its own."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "public-form-tests"}}
    from django.core.cache import cache
    cache.clear()


@pytest.mark.django_db
def test_a_customer_files_a_complaint_and_sees_the_reference(client):
    # When someone fills in the public form without signing in
    response = client.post("/complain/", VALID, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    # Then the complaint is stored as received, with an acknowledgement e-mail in the outbox
    complaint = Complaint.objects.get()
    assert complaint.status == Status.RECEIVED and complaint.channel == "web_form" and complaint.contact_email == "wang@example.com"
    ack = OutboundEmail.objects.get(to="wang@example.com")
    assert complaint.reference in ack.subject
    # And the page shows the reference number
    assert response.status_code == 200
    assert complaint.reference in response.content.decode()


@pytest.mark.django_db
def test_a_complaint_from_a_known_customer_lands_on_their_timeline(client, rep):
    from guanxi.customers.models import CustomerEvent
    from tests.factories import make_customer

    customer = make_customer(rep, name="王芳", email="wang@example.com")
    client.post("/complain/", VALID)
    assert Complaint.objects.get().customer == customer
    assert CustomerEvent.objects.filter(customer=customer, verb="complaint").exists()


@pytest.mark.django_db
def test_a_bot_filling_the_honeypot_is_thanked_and_ignored(client):
    response = client.post("/complain/", {**VALID, "website": "http://spam.example"})
    assert response.status_code == 302
    assert not Complaint.objects.exists() and not OutboundEmail.objects.exists()


@pytest.mark.django_db
def test_bad_input_is_refused_naming_the_field(client):
    response = client.post("/complain/", {**VALID, "email": "not an address", "description": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "email" in errors and "description" in errors
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_a_bad_phone_number_is_refused_on_its_field(client):
    response = client.post("/complain/", {**VALID, "phone": "12"})
    assert response.status_code == 422 and "phone" in response.context["form"].errors


@pytest.mark.django_db
def test_too_many_submissions_from_one_address_are_rate_limited(client, settings):
    settings.PUBLIC_COMPLAINT_RATE = (3, 3600)
    codes = [client.post("/complain/", VALID).status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]
    assert Complaint.objects.count() == 3


@pytest.mark.django_db
def test_the_form_needs_a_csrf_token():
    response = Client(enforce_csrf_checks=True).post("/complain/", VALID)
    assert response.status_code == 403
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_the_how_to_reach_us_page_lists_channels_and_promised_times(client):
    response = client.get("/contact/", HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response.status_code == 200
    assert "400-800-1234" in body and "/complain/" in body and "We resolve within" in body


@pytest.mark.django_db(transaction=True)
def test_a_valid_submission_is_kept_while_the_mail_server_is_down_and_acknowledged_once_it_is_back(client, smtp_server_down):
    # Given the SMTP server is down when the customer submits
    client.post("/complain/", VALID)
    run_mail_worker()
    complaint = Complaint.objects.get()
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.FAILED
    # When the server is back and the retry is due
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult
    smtp_server_down.start()
    DBTaskResult.objects.update(run_after=timezone.now())
    run_mail_worker()
    # Then the customer gets exactly one acknowledgement with the reference
    received = smtp_server_down.to("wang@example.com")
    assert len(received) == 1 and complaint.reference in received[0]["Subject"]


text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=300).filter(lambda s: s.strip())


class PublicFormNeverLosesValidInput(TestCase):
    @hsettings(max_examples=25, deadline=None)
    @given(name=text.map(lambda s: s[:100]).filter(lambda s: s.strip()), description=text,
           desired=st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=200))
    def test_every_valid_submission_is_stored_with_its_acknowledgement(self, name, description, desired):
        from django.core.cache import cache
        cache.clear()
        before = Complaint.objects.count()
        response = self.client.post("/complain/", {**VALID, "name": name, "description": description, "desired_outcome": desired})
        assert response.status_code == 302
        assert Complaint.objects.count() == before + 1
        stored = Complaint.objects.latest("pk")
        assert stored.description == description.strip()
        assert OutboundEmail.objects.filter(about=f"complaint:{stored.pk}").count() == 1
