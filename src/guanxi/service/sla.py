"""Business-hours arithmetic on China's working calendar (DESIGN.md pitfall 14).

A working day is what `holidays.China().is_working_day` says: it knows the public holidays
(Spring Festival, Mid-Autumn and the other lunar ones) and the make-up working weekends
(调休, e.g. Sunday 2025-01-26) — never `weekday() < 5`. Business hours are the same on every
working day, in the site's time zone (settings.SERVICE_BUSINESS_HOURS, default 9–18).
"""

import datetime
import functools
import threading
from decimal import Decimal

import holidays
from django.conf import settings
from django.utils import timezone

_calendar = holidays.China()
_lock = threading.Lock()  # the calendar fills in years lazily; gthread workers share it


@functools.lru_cache(maxsize=8192)
def is_working_day(day: datetime.date) -> bool:
    with _lock:
        return _calendar.is_working_day(day)


def business_hours() -> tuple[datetime.time, datetime.time]:
    start, end = getattr(settings, "SERVICE_BUSINESS_HOURS", (9, 18))
    return datetime.time(start), datetime.time(end)


def _bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    opens, closes = business_hours()
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(datetime.datetime.combine(day, opens), tz),
            timezone.make_aware(datetime.datetime.combine(day, closes), tz))


def add_business_hours(start: datetime.datetime, hours: float | int | Decimal) -> datetime.datetime:
    """The moment `hours` business hours after `start` (a start outside business hours counts from the next opening)."""
    remaining = datetime.timedelta(hours=float(hours))
    if remaining <= datetime.timedelta(0):
        return start
    cursor = timezone.localtime(start)
    day = cursor.date()
    while True:
        if is_working_day(day):
            opens, closes = _bounds(day)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += datetime.timedelta(days=1)
        cursor = _bounds(day)[0]


def business_time_between(start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
    """Business time elapsed from `start` to `end` (zero if `end` is not after `start`)."""
    if end <= start:
        return datetime.timedelta(0)
    total = datetime.timedelta(0)
    day = timezone.localtime(start).date()
    last = timezone.localtime(end).date()
    while day <= last:
        if is_working_day(day):
            opens, closes = _bounds(day)
            begin, finish = max(start, opens), min(end, closes)
            if finish > begin:
                total += finish - begin
        day += datetime.timedelta(days=1)
    return total
