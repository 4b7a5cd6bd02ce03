"""Shared pydantic types for the API (DESIGN.md pitfall 3): bounded numbers, NUL-free bounded strings.

Every API schema builds its fields from these so that no input can reach the database as an
out-of-range integer, an over-long string or a NUL byte (PostgreSQL rejects NUL in text with
a 500 otherwise). Bad values fail validation and come back as 422 naming the field.
"""

from datetime import date as _date
from decimal import Decimal
from typing import Annotated

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1  # Django's PositiveIntegerField is 32-bit on every backend
INT16_MAX = 2**15 - 1  # PositiveSmallIntegerField
MAX_OFFSET = 10_000


def _reject_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(_("must not contain NUL characters"))
    return value


def Text(max_length: int, *, min_length: int = 0, strip: bool = True):  # noqa: N802 - reads as a type
    """A string of at most `max_length` characters (the column's), without NUL."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length, min_length=min_length, strip_whitespace=strip),
        AfterValidator(_reject_nul),
    ]


# Free text (TextField) still gets a bound: nobody types 100k characters into a note.
LongText = Text(20_000)
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
Id = Annotated[int, Field(ge=1, le=INT64_MAX)]
PositiveInt32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
PositiveInt16 = Annotated[int, Field(ge=0, le=INT16_MAX)]
Version = Annotated[int, Field(ge=1, le=INT32_MAX, description="The version you loaded; a stale one gets 409.")]
Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2, allow_inf_nan=False)]
Date = Annotated[_date, Field(ge=_date(1900, 1, 1), le=_date(2999, 12, 31))]


def _cap_offset(value: int) -> int:
    if value > MAX_OFFSET:
        raise ValueError(
            _("offset may not exceed %(max)d; narrow the filter or search instead of paging this deep") % {"max": MAX_OFFSET}
        )
    return value


Limit = Annotated[int, Field(ge=1, le=getattr(settings, "NINJA_PAGINATION_MAX_LIMIT", 500))]
Offset = Annotated[int, Field(ge=0, le=INT64_MAX), AfterValidator(_cap_offset)]


class PageParams(Schema):
    """`limit`/`offset` query parameters shared by every list endpoint."""

    limit: Limit = 50
    offset: Offset = 0


class Page(Schema):
    """The envelope of every list response: {"items": [...], "count": N, "count_capped": bool}."""

    count: int
    count_capped: bool = False
