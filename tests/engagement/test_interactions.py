"""Interactions: every contact with a customer, in either direction, recorded for all to see."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.engagement import selectors, services
from guanxi.engagement.models import Channel, ContentType, Direction, SalesPhase
from tests.factories import make_customer


def log(customer, actor, **overrides):
    values = {"channel": Channel.WECHAT, "direction": Direction.INBOUND, "subject": "询问价格", "actor": actor}
    return services.log_interaction(customer=customer, **{**values, **overrides})


def test_an_interaction_records_channel_direction_content_and_phase(rep, customer):
    interaction = services.log_interaction(
        customer=customer, channel=Channel.VISIT, direction=Direction.OUTBOUND, content_type=ContentType.EMOTION,
        phase=SalesPhase.AFTER, subject="节日拜访", body="送月饼", actor=rep,
        occurred_at=timezone.now() - datetime.timedelta(days=1),
    )

    interaction.refresh_from_db()
    assert (interaction.channel, interaction.direction, interaction.content_type, interaction.phase) == ("visit", "out", "emotion", "after")
    assert interaction.actor == rep


@pytest.mark.parametrize(("field", "value"), [
    ("channel", "telepathy"), ("direction", "sideways"), ("content_type", "gossip"), ("phase", "never"),
    ("subject", ""), ("subject", "x" * 201),
])
def test_bad_values_are_refused_naming_the_field(rep, customer, field, value):
    with pytest.raises(ValidationError) as error:
        log(customer, rep, **{field: value})
    assert field in error.value.message_dict


def test_an_interaction_in_the_future_is_refused(rep, customer):
    with pytest.raises(ValidationError) as error:
        log(customer, rep, occurred_at=timezone.now() + datetime.timedelta(days=2))
    assert "occurred_at" in error.value.message_dict


def test_interactions_on_another_reps_customer_are_neither_written_nor_read(rep, other_rep):
    theirs = make_customer(other_rep)
    log(theirs, other_rep)

    with pytest.raises(Customer.DoesNotExist):
        log(theirs, rep)
    assert not selectors.interactions_for(rep).exists()


def test_read_only_roles_cannot_log_interactions(service_agent, customer):
    with pytest.raises(PermissionDenied):
        log(customer, service_agent)


def test_interactions_are_filtered_by_customer_channel_and_direction(rep, customer):
    other = make_customer(rep)
    wechat_in = log(customer, rep)
    log(customer, rep, channel=Channel.PHONE)
    log(customer, rep, direction=Direction.OUTBOUND)
    log(other, rep)

    found = selectors.interactions_for(rep, customer.pk, channel=Channel.WECHAT, direction=Direction.INBOUND)

    assert list(found) == [wechat_in]
