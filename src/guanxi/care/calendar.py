"""Dates care rules fire on: holidays (lunar ones from the `holidays` package), birthdays (29 February
falls on the 28th in common years) and relationship anniversaries (paper → silver → gold)."""

import datetime
import functools

from django.utils.translation import gettext_lazy as _

from guanxi.care.models import CareRule

H = CareRule.Holiday


@functools.lru_cache(maxsize=1)
def _lunisolar():
    # The holidays package's own Chinese lunisolar calendar (1901–2100), which holidays.China() uses.
    from holidays.calendars.chinese import _ChineseLunisolar

    return _ChineseLunisolar()


@functools.lru_cache(maxsize=512)
def holiday_date(holiday: str, year: int) -> datetime.date:
    lunar = _lunisolar()
    if holiday == H.SPRING_FESTIVAL:
        return lunar.lunar_new_year_date(year)[0]
    if holiday == H.LANTERN:
        return lunar.lunar_new_year_date(year)[0] + datetime.timedelta(days=14)
    if holiday == H.DRAGON_BOAT:
        return lunar.dragon_boat_date(year)[0]
    if holiday == H.MID_AUTUMN:
        return lunar.mid_autumn_date(year)[0]
    fixed = {H.NATIONAL_DAY: (10, 1), H.NEW_YEAR: (1, 1), H.VALENTINES: (2, 14), H.CHRISTMAS: (12, 25)}
    month, day = fixed[holiday]
    return datetime.date(year, month, day)


def holiday_occurrence(holiday: str, fire_day: datetime.date, days_before: int) -> datetime.date | None:
    """The holiday whose greeting is due on `fire_day`, or None."""
    target = fire_day + datetime.timedelta(days=days_before)
    return target if holiday_date(holiday, target.year) == target else None


def yearly_date(month: int, day: int, year: int) -> datetime.date:
    """This year's date of a yearly event; 29 February is kept on the 28th in common years."""
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return datetime.date(year, 2, 28)


def month_days_for(target: datetime.date) -> list[tuple[int, int]]:
    """The (month, day) pairs whose yearly event falls on `target` (28 Feb also takes 29 Feb in common years)."""
    pairs = [(target.month, target.day)]
    if (target.month, target.day) == (2, 28) and yearly_date(2, 29, target.year) == target:
        pairs.append((2, 29))
    return pairs


ANNIVERSARY_NAMES = {1: _("paper"), 2: _("cotton"), 3: _("leather"), 5: _("wood"), 10: _("tin"), 15: _("crystal"),
                     20: _("china"), 25: _("silver"), 30: _("pearl"), 40: _("ruby"), 50: _("gold")}
