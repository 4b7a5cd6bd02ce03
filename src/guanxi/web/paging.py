"""Pagination that stays fast on big tables: a capped count and a capped offset.

Exact COUNT(*) and deep OFFSETs over a million rows are slow (DESIGN.md pitfall 9), and
nobody pages past 10,000 rows — they refine the search instead.
"""

import math
from dataclasses import dataclass

from django.db.models import QuerySet

from guanxi.core.pagination import COUNT_CAP, capped_count

PAGE_SIZE = 25


@dataclass
class Page:
    rows: list
    number: int
    count: int
    capped: bool
    page_size: int

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def at_limit(self) -> bool:
        return self.capped and self.number == self.num_pages


def page_number(raw) -> int:
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1


def paginate(queryset: QuerySet, raw_page, page_size: int = PAGE_SIZE, cap: int = COUNT_CAP) -> Page:
    """One capped COUNT and one LIMIT/OFFSET query; page numbers beyond the cap clamp to the last page."""
    count, capped = capped_count(queryset, cap)
    num_pages = max(1, math.ceil(count / page_size))
    number = min(page_number(raw_page), num_pages)
    offset = (number - 1) * page_size
    rows = list(queryset[offset : offset + page_size])
    return Page(rows=rows, number=number, count=count, capped=capped, page_size=page_size)
