"""The outbox: a message is a row written in the business transaction and sent exactly once over real SMTP."""

import datetime

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from guanxi.messaging import services
from guanxi.messaging.models import OutboundEmail
from tests.smtp import run_mail_worker

pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE = "service/email/acknowledgement"


def queue(to="wang@example.com", language="en"):
    from guanxi.service.models import Complaint

    complaint = Complaint(reference="TS-2026-000001", contact_name="Wang Fang",
                          acknowledge_due_at=timezone.now())
    with transaction.atomic():
        return services.queue_email(to=to, template=TEMPLATE, context={"complaint": complaint}, language=language)


def test_a_queued_message_arrives_once_at_the_smtp_server(smtp_server):
    # Given a message queued in a committed transaction
    email = queue()
    # When the mail worker runs, and runs again
    run_mail_worker()
    run_mail_worker()
    # Then the server received it once and the row says sent
    assert len(smtp_server.to("wang@example.com")) == 1
    assert "TS-2026-000001" in smtp_server.messages[0]["Subject"]
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT and email.sent_at is not None


def test_a_message_in_a_rolled_back_transaction_is_never_sent(smtp_server):
    # Given a business transaction that fails after queueing a message
    with pytest.raises(RuntimeError), transaction.atomic():
        services.queue_email(to="wang@example.com", template=TEMPLATE, context={"complaint": None}, language="en")
        raise RuntimeError("the business write failed")
    # When the worker runs
    run_mail_worker()
    # Then there is neither a row nor a message
    assert not OutboundEmail.objects.exists()
    assert smtp_server.messages == []


@override_settings(TASK_MAX_ATTEMPTS=3, TASK_RETRY_BACKOFF=datetime.timedelta(seconds=30))
def test_mail_is_retried_after_the_smtp_server_was_down_and_delivered_once(smtp_server_down):
    # Given a message queued while the SMTP server is down
    email = queue()
    run_mail_worker()
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.FAILED and email.last_error
    task = DBTaskResult.objects.get()
    assert task.status == TaskResultStatus.READY and task.run_after > timezone.now()
    # When the server comes back and the retry is due
    smtp_server_down.start()
    DBTaskResult.objects.update(run_after=timezone.now())
    run_mail_worker()
    run_mail_worker()
    # Then the message arrived exactly once
    assert len(smtp_server_down.to("wang@example.com")) == 1
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT and email.attempts == 2


@override_settings(TASK_MAX_ATTEMPTS=1)
def test_a_message_whose_retries_ran_out_stays_visible_and_can_be_sent_again(smtp_server_down, admin_user):
    # Given a message that failed its only attempt
    email = queue()
    run_mail_worker()
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.FAILED
    assert DBTaskResult.objects.get().status == TaskResultStatus.FAILED
    # When support sends it again once the server is back
    smtp_server_down.start()
    services.retry_email(email=email, actor=admin_user)
    run_mail_worker()
    # Then it arrives
    assert len(smtp_server_down.messages) == 1
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT


def test_a_sent_message_is_not_sent_again_by_a_duplicate_task(smtp_server):
    # Given a sent message
    email = queue()
    run_mail_worker()
    # When another task for the same row runs (a sweep, a double click)
    assert services.send_outbound(email_id=email.pk) is False
    # Then nothing more went out
    assert len(smtp_server.messages) == 1


def test_a_message_whose_task_was_lost_is_swept_up_and_sent(smtp_server):
    # Given a queued row older than the sweep delay with no task (lost before it reached the queue)
    email = queue()
    DBTaskResult.objects.all().delete()
    OutboundEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    # When the sweep runs and then the worker
    assert services.requeue_forgotten() == 1
    run_mail_worker()
    # Then the message is delivered
    assert len(smtp_server.messages) == 1


def test_an_invalid_address_is_refused_naming_the_field():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.queue_email(to="not-an-address", template=TEMPLATE, context={"complaint": None})
    assert "to" in error.value.message_dict


def test_support_sees_failed_mail_in_the_admin(client, admin_user, smtp_server_down):
    # Given a failed message
    email = queue()
    run_mail_worker()
    # When support opens the outbox in the admin filtered on failures
    client.force_login(admin_user)
    response = client.get("/admin/messaging/outboundemail/?status__exact=failed")
    # Then the message and its state are listed
    assert response.status_code == 200
    assert email.subject in response.content.decode()
