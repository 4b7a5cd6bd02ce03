"""Periodic complaint work for `guanxi worker`: SLA escalation every 15 minutes, the digest each morning."""

import datetime

from guanxi.core.jobs import periodic
from guanxi.service import services


@periodic("service.escalate_near_breaches", every=datetime.timedelta(minutes=15), catch_up=1)
def escalate(period: datetime.datetime) -> None:
    services.escalate_near_breaches()


@periodic("service.complaint_digest", daily_at=datetime.time(8, 0), catch_up=1)
def digest(period: datetime.datetime) -> None:
    services.send_complaint_digest(now=period)


@periodic("service.warranty_reminders", daily_at=datetime.time(9, 0), catch_up=1)
def warranty_reminders(period: datetime.datetime) -> None:
    services.remind_expiring_warranties()
