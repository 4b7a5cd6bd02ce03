"""Lunar festivals come from the lunardate library; checked against published dates and against holidays.China,
an independent implementation of the same calendar."""

import datetime

import holidays
import pytest

from guanxi.care import calendar
from guanxi.care.models import CareRule

H = CareRule.Holiday
D = datetime.date


@pytest.mark.parametrize(("holiday", "year", "published"), [
    (H.SPRING_FESTIVAL, 2024, D(2024, 2, 10)), (H.SPRING_FESTIVAL, 2025, D(2025, 1, 29)), (H.SPRING_FESTIVAL, 2026, D(2026, 2, 17)),
    (H.MID_AUTUMN, 2024, D(2024, 9, 17)), (H.MID_AUTUMN, 2025, D(2025, 10, 6)), (H.MID_AUTUMN, 2026, D(2026, 9, 25)),
    (H.DRAGON_BOAT, 2025, D(2025, 5, 31)), (H.DRAGON_BOAT, 2026, D(2026, 6, 19)),
    (H.LANTERN, 2025, D(2025, 2, 12)), (H.LANTERN, 2026, D(2026, 3, 3)),
])
def test_a_lunar_festival_falls_on_its_published_date(holiday, year, published):
    assert calendar.holiday_date(holiday, year) == published


def test_a_leap_month_never_counts():
    # 2023 had a leap 2nd month and 2025 a leap 6th: the festivals stay on the ordinary months' dates.
    assert calendar.holiday_date(H.LANTERN, 2023) == D(2023, 2, 5)
    assert calendar.holiday_date(H.MID_AUTUMN, 2023) == D(2023, 9, 29)
    assert calendar.holiday_date(H.MID_AUTUMN, 2025) == D(2025, 10, 6)


NAMES = {H.SPRING_FESTIVAL: "Chinese New Year (Spring Festival)", H.DRAGON_BOAT: "Dragon Boat Festival",
         H.MID_AUTUMN: "Mid-Autumn Festival"}


def test_the_lunar_festivals_agree_with_holidays_china_from_1990_to_2099():
    compared = {holiday: 0 for holiday in NAMES}
    for year in range(1990, 2100):
        named = {}
        for day, names in holidays.China(years=year, language="en_US").items():
            for name in names.split("; "):
                named.setdefault(name, []).append(day)
        for holiday, name in NAMES.items():
            if name in named:  # holidays.China names Dragon Boat and Mid-Autumn only from 2008
                assert calendar.holiday_date(holiday, year) == min(named[name]), (holiday, year)
                compared[holiday] += 1
    assert compared[H.SPRING_FESTIVAL] == 110 and compared[H.DRAGON_BOAT] >= 90 and compared[H.MID_AUTUMN] >= 90


def test_outside_the_lunar_tables_a_lunar_rule_simply_does_not_fire():
    assert calendar.holiday_occurrence(H.SPRING_FESTIVAL, D(2100, 2, 9), 0) is None
    assert calendar.holiday_occurrence(H.CHRISTMAS, D(2100, 12, 25), 0) == D(2100, 12, 25)
