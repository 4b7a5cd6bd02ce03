"""Every write to the outbox: queue a message inside the business transaction, send one, send again.

Sending is idempotent: a row is claimed with a conditional UPDATE (queued/failed → sending), so
two workers, a retry and a sweep can never send the same row twice; only a crash between the
SMTP server's "250 OK" and marking the row sent can repeat a message, and then with the same
Message-ID.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.accounts.models import Role, User
from guanxi.messaging.models import OutboundEmail

logger = logging.getLogger(__name__)

STUCK_AFTER = datetime.timedelta(minutes=10)


def _enqueue(email_id: int) -> None:
    from guanxi.messaging.tasks import send_email

    send_email.enqueue(email_id)


def render_email(template: str, context: dict, language: str | None) -> tuple[str, str]:
    """Subject and body from `<template>.subject.txt` and `<template>.txt`, in the recipient's language."""
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{template}.subject.txt", context).split())
        body = render_to_string(f"{template}.txt", context).strip() + "\n"
    return subject[:200], body


def queue_email(*, to: str, template: str, context: dict, language: str | None = None, customer=None,
                about: str = "", actor: User | None = None) -> OutboundEmail:
    """Write the message as an outbox row now; a task sends it once the surrounding transaction commits."""
    to = (to or "").strip()
    try:
        validate_email(to)
    except ValidationError:
        raise ValidationError({"to": _("Enter a valid e-mail address.")}) from None
    subject, body = render_email(template, context, language)
    with transaction.atomic():
        email = OutboundEmail.objects.create(
            to=to, subject=subject, body=body, template=template[:100], language=(language or "")[:8],
            customer=customer, about=about[:100], created_by=actor,
        )
        transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def _claimable() -> Q:
    stuck = Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=timezone.now() - STUCK_AFTER)
    return Q(status__in=[OutboundEmail.Status.QUEUED, OutboundEmail.Status.FAILED]) | stuck


def send_outbound(*, email_id: int) -> bool:
    """Send one outbox row unless it is sent or being sent; True if this call sent it.

    A failure marks the row failed with the error and re-raises, so the worker retries with backoff.
    """
    with transaction.atomic():
        claimed = OutboundEmail.objects.filter(_claimable(), pk=email_id).update(
            status=OutboundEmail.Status.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1,
        )
    if not claimed:
        return False
    email = OutboundEmail.objects.get(pk=email_id)
    message = EmailMessage(
        subject=email.subject, body=email.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email.to],
        headers={"Message-ID": email.message_id},
    )
    try:
        message.send()
    except Exception as error:
        OutboundEmail.objects.filter(pk=email_id).update(
            status=OutboundEmail.Status.FAILED, last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        logger.warning("outbound e-mail %s failed (attempt %s)", email_id, email.attempts)
        raise
    OutboundEmail.objects.filter(pk=email_id).update(status=OutboundEmail.Status.SENT, sent_at=timezone.now(), last_error="")
    return True


def retry_email(*, email: OutboundEmail, actor: User) -> OutboundEmail:
    """Send a failed message again (support's button once the automatic retries gave up)."""
    if not actor.is_active or not (actor.is_superuser or actor.role in (Role.ADMIN, Role.MANAGER)):
        raise PermissionDenied(_("Only administrators and managers resend e-mail."))
    if email.status == OutboundEmail.Status.SENT:
        raise ValidationError({"status": _("This message has already been sent.")})
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundEmail.Status.QUEUED, claimed_at=None)
        transaction.on_commit(lambda: _enqueue(email.pk))
    email.refresh_from_db()
    return email


def requeue_forgotten(*, now: datetime.datetime | None = None) -> int:
    """Enqueue rows whose task never ran (lost before commit, worker crash): queued for a while or stuck sending."""
    now = now or timezone.now()
    ids = list(
        OutboundEmail.objects.filter(
            Q(status=OutboundEmail.Status.QUEUED, created_at__lt=now - STUCK_AFTER)
            | Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=now - STUCK_AFTER)
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in ids:
        _enqueue(pk)
    return len(ids)
