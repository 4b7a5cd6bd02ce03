"""Dates care rules fire on: holidays (lunar ones from the `lunardate` library), birthdays (29 February
falls on the 28th in common years) and relationship anniversaries (paper → silver → gold)."""

import datetime
import functools

from django.utils.translation import gettext_lazy as _
from lunardate import LunarDate

from guanxi.care.models import CareRule

H = CareRule.Holiday


# Lunar festivals as (lunar month, day) of an ordinary month; a leap month of the same number never counts.
LUNAR = {H.SPRING_FESTIVAL: (1, 1), H.LANTERN: (1, 15), H.DRAGON_BOAT: (5, 5), H.MID_AUTUMN: (8, 15)}
FIXED = {H.NATIONAL_DAY: (10, 1), H.NEW_YEAR: (1, 1), H.VALENTINES: (2, 14), H.CHRISTMAS: (12, 25)}
# The years lunardate's tables cover; outside them a lunar holiday has no date.
LUNAR_YEARS = range(1900, 2100)


@functools.lru_cache(maxsize=1024)
def holiday_date(holiday: str, year: int) -> datetime.date:
    """The holiday's Gregorian date in `year` (lunar ones from the lunardate library, 1900–2099)."""
    if holiday in LUNAR:
        if year not in LUNAR_YEARS:
            raise ValueError(f"no lunar calendar for {year}")
        month, day = LUNAR[holiday]
        # Lunar month 1–8 of lunar year Y always falls within Gregorian year Y.
        return LunarDate(year, month, day, False).to_solar_date()
    month, day = FIXED[holiday]
    return datetime.date(year, month, day)


def holiday_occurrence(holiday: str, fire_day: datetime.date, days_before: int) -> datetime.date | None:
    """The holiday whose greeting is due on `fire_day`, or None."""
    target = fire_day + datetime.timedelta(days=days_before)
    try:
        return target if holiday_date(holiday, target.year) == target else None
    except ValueError:
        return None


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
