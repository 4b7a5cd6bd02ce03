"""Complaints by e-mail: the mail server pipes the message to `guanxi complaint_from_email`."""

import io
import sys
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.service.models import Complaint

pytestmark = pytest.mark.django_db


def message(sender="王芳 <wangfang@example.com>", subject="水壶漏水", body="用了一周就漏水了，请换一个。") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "complaints@example.com", subject
    msg.set_content(body)
    return bytes(msg)


def run(raw: bytes, monkeypatch) -> str:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("complaint_from_email", stdout=out)
    return out.getvalue().strip()


def test_an_emailed_complaint_lands_on_the_customers_record(monkeypatch, customer):
    reference = run(message(), monkeypatch)
    complaint = Complaint.objects.get(reference=reference)
    assert complaint.channel == "email" and complaint.customer == customer
    assert complaint.description.startswith("水壶漏水") and "漏水了" in complaint.description
    assert complaint.contact_name == "王芳"


def test_a_message_without_a_usable_sender_is_refused(monkeypatch):
    with pytest.raises(CommandError):
        run(message(sender="nobody"), monkeypatch)
    assert not Complaint.objects.exists()
