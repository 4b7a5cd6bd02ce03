"""SLA deadlines in business hours on China's working calendar, escalation once, breaches counted."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone
from hypothesis import given, settings as hsettings, strategies as st

from guanxi.engagement.models import Channel
from guanxi.messaging.models import OutboundEmail
from guanxi.service import services, sla
from guanxi.service.models import SlaEscalation

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def test_a_deadline_skips_the_weekend():
    # Friday 17:00 + 2 business hours → Monday 10:00
    assert sla.add_business_hours(at(2025, 3, 14, 17), 2) == at(2025, 3, 17, 10)


def test_a_deadline_skips_spring_festival_and_counts_the_make_up_working_days():
    # Monday 2025-01-27 17:00 + 4h: 1h that day; 28 Jan–4 Feb are the Spring Festival holiday; 5 Feb resumes at 9:00
    assert sla.add_business_hours(at(2025, 1, 27, 17), 4) == at(2025, 2, 5, 12)
    # Sunday 2025-01-26 is a make-up working day (调休): a complaint that morning is due the same day
    assert sla.add_business_hours(at(2025, 1, 26, 9), 3) == at(2025, 1, 26, 12)
    # and Saturday 2025-02-08 is one too
    assert sla.is_working_day(datetime.date(2025, 2, 8)) and not sla.is_working_day(datetime.date(2025, 2, 9))


def test_a_complaint_received_at_night_counts_from_the_next_opening():
    assert sla.add_business_hours(at(2025, 3, 11, 22, 30), 1) == at(2025, 3, 12, 10)


def brute_force_deadline(start: datetime.datetime, minutes: int) -> datetime.datetime:
    """An independent oracle: walk minute by minute over business minutes."""
    cursor = start.replace(second=0, microsecond=0)
    counted = 0
    while True:
        local = cursor.astimezone(SHANGHAI)
        if sla.is_working_day(local.date()) and 9 <= local.hour < 18:
            counted += 1
            if counted == minutes:
                return cursor + datetime.timedelta(minutes=1)
        cursor += datetime.timedelta(minutes=1)


starts = st.datetimes(min_value=datetime.datetime(2024, 12, 20), max_value=datetime.datetime(2026, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=SHANGHAI))


@hsettings(max_examples=60, deadline=None)
@given(start=starts, hours=st.integers(min_value=1, max_value=40))
def test_a_deadline_leaves_exactly_the_business_hours_asked_for(start, hours):
    # Any start (weekends, nights, holidays, make-up days) and any budget
    due = sla.add_business_hours(start, hours)
    # The deadline falls on a working day within business hours, and the time between is exactly the budget
    local = due.astimezone(SHANGHAI)
    assert sla.is_working_day(local.date())
    assert datetime.time(9) < local.time() <= datetime.time(18)
    assert sla.business_time_between(start, due) == datetime.timedelta(hours=hours)


@hsettings(max_examples=15, deadline=None)
@given(start=starts, hours=st.integers(min_value=1, max_value=12))
def test_a_deadline_matches_counting_minute_by_minute(start, hours):
    assert sla.add_business_hours(start, hours) == brute_force_deadline(start, hours * 60)


@pytest.mark.django_db
def test_deadlines_follow_the_severity_policy(agent, customer):
    # Given a policy: critical complaints acknowledged within 1 business hour, resolved within 8
    services.set_sla_policy(actor=_admin(), severity="critical", acknowledge_hours=1, resolve_hours=8)
    received = at(2025, 3, 14, 17, 30)  # a Friday afternoon
    complaint = services.receive_complaint(actor=agent, customer=customer, channel=Channel.PHONE, description="断电",
                                           severity="critical", received_at=received)
    assert complaint.acknowledge_due_at == at(2025, 3, 17, 9, 30)
    assert complaint.resolve_due_at == at(2025, 3, 17, 16, 30)


def _admin():
    from tests.factories import make_user

    return make_user("admin")


@pytest.mark.django_db
def test_a_complaint_about_to_breach_is_escalated_to_the_department_manager_once(agent, service_manager, customer, service_department):
    # Given a complaint assigned to the service department whose resolution deadline is 80% used
    received = timezone.now() - datetime.timedelta(days=60)
    complaint = services.receive_complaint(actor=agent, customer=customer, channel=Channel.PHONE, description="没人回电",
                                           received_at=received)
    from tests.service.test_workflow import register
    complaint = register(complaint, agent)
    complaint = services.accept_complaint(complaint=complaint, actor=agent, expected_version=complaint.version)
    services.assign_department(complaint=complaint, actor=agent, expected_version=complaint.version, department=service_department)
    # When the escalation job runs twice
    first = services.escalate_near_breaches()
    second = services.escalate_near_breaches()
    # Then the manager got one e-mail, and the escalation exists once
    assert [e.deadline for e in first] == [SlaEscalation.Deadline.RESOLVE] and second == []
    assert SlaEscalation.objects.filter(complaint=complaint).count() == 1
    assert OutboundEmail.objects.filter(to=service_manager.email, template="service/email/escalation").count() == 1


@pytest.mark.django_db
def test_a_complaint_with_time_left_is_not_escalated(agent, customer):
    services.receive_complaint(actor=agent, customer=customer, channel=Channel.PHONE, description="刚收到", severity="low")
    assert services.escalate_near_breaches() == []


@pytest.mark.django_db
def test_breaches_are_counted(agent, customer):
    # Given one complaint nobody acknowledged in time and one acknowledged promptly
    services.receive_complaint(actor=agent, customer=customer, channel=Channel.PHONE, description="旧的",
                               received_at=timezone.now() - datetime.timedelta(days=30))
    services.receive_complaint(actor=agent, customer=customer, channel=Channel.PHONE, description="新的")
    # Then one acknowledgement breach (and one resolution breach) is counted
    assert services.count_breaches() == {"acknowledge": 1, "resolve": 1}


@pytest.mark.django_db
def test_senior_managers_get_the_complaint_digest_in_their_language(agent, service_manager, customer):
    # Given a new complaint today and a manager who reads English
    service_manager.language = "en"
    service_manager.save(update_fields=["language"])
    services.receive_complaint(actor=agent, customer=customer, channel=Channel.PHONE, description="质量问题")
    # When the digest goes out
    services.send_complaint_digest()
    # Then the manager's copy counts it
    digest = OutboundEmail.objects.get(to=service_manager.email, template="service/email/digest")
    assert "New in the last 24 hours: 1" in digest.body


@pytest.mark.django_db
def test_escalation_waits_until_the_warn_share_of_the_deadline_is_used(agent, customer):
    # Given a critical complaint on Monday 9:00: acknowledge within 2 business hours, escalate at 80% (1 h 36 min)
    services.set_sla_policy(actor=_admin(), severity="critical", acknowledge_hours=2, resolve_hours=8, warn_at_percent=80)
    received = at(2025, 3, 10, 9)
    services.receive_complaint(actor=agent, customer=customer, channel=Channel.PHONE, description="停电", severity="critical",
                               received_at=received)
    # Then nothing at 10:30, the acknowledgement escalation at 10:40, and nothing more at 10:50
    assert services.escalate_near_breaches(now=at(2025, 3, 10, 10, 30)) == []
    assert [e.deadline for e in services.escalate_near_breaches(now=at(2025, 3, 10, 10, 40))] == ["acknowledge"]
    assert services.escalate_near_breaches(now=at(2025, 3, 10, 10, 50)) == []
