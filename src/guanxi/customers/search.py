"""Customer search text and the one search selector (DESIGN.md "Search").

The narrow `CustomerSearch` table holds, casefolded: the name with and without spaces, its
pinyin and initials (every reading of heteronym surnames), digits-only phones and e-mails.
Queries of ≥3 characters use the index (PostgreSQL pg_trgm GIN with LIKE, SQLite FTS5
trigram MATCH); shorter ones scan the narrow table with LIKE and a LIMIT, because FTS5
returns no rows below three characters.
"""

import re

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

# pypinyin reads these surnames with their common-word pronunciation; index both readings.
SURNAME_READINGS = {
    "曾": ("zeng", "ceng"),
    "单": ("shan", "dan"),
    "区": ("ou", "qu"),
    "仇": ("qiu", "chou"),
    "朴": ("piao", "pu"),
    "解": ("xie", "jie"),
    "查": ("zha", "cha"),
    "盖": ("ge", "gai"),
    "尉迟": ("yuchi",),
    "万俟": ("moqi",),
}
SHORT_QUERY_LIMIT = 1000
_HAN = re.compile(r"[\u3400-\u9fff]")
_NON_DIGIT = re.compile(r"\D")


def _pinyin_variants(name: str) -> list[str]:
    """Full pinyin and initials of the Chinese part of `name`, with alternative surname readings."""
    if not _HAN.search(name):
        return []
    from pypinyin import lazy_pinyin  # ~50 MiB: import only when a Chinese name is indexed

    compact = re.sub(r"\s+", "", name)
    syllables = [s.strip() for s in lazy_pinyin(compact, errors="ignore") if s.strip()]
    variants = {"".join(syllables), "".join(s[0] for s in syllables)}
    for surname, readings in SURNAME_READINGS.items():
        if compact.startswith(surname):
            rest = [s.strip() for s in lazy_pinyin(compact[len(surname):], errors="ignore") if s.strip()]
            for reading in readings:
                variants.add(reading + "".join(rest))
                variants.add(reading[0] + "".join(s[0] for s in rest))
    return sorted(v for v in variants if v)


def build_search_text(*, name: str, phones: list[str] = (), emails: list[str] = (), extra: list[str] = ()) -> str:
    """The casefolded text one customer is found by."""
    name = (name or "").strip()
    parts = [name, re.sub(r"\s+", "", name)]
    parts += _pinyin_variants(name)
    parts += [_NON_DIGIT.sub("", p) for p in phones if p]
    parts += [e for e in emails if e]
    parts += [x for x in extra if x]
    seen, unique = set(), []
    for part in (p.casefold() for p in parts if p):
        if part not in seen:
            seen.add(part)
            unique.append(part)
    return " | ".join(unique)


def normalise_query(q: str) -> str:
    """Casefold; a phone number typed with spaces, dashes or +86 becomes its digits."""
    q = (q or "").strip().casefold()
    if re.fullmatch(r"[\d\s\-+().]+", q) and sum(c.isdigit() for c in q) >= 3:
        return _NON_DIGIT.sub("", q)
    return q


def matching_customer_ids(q: str) -> QuerySet | list:
    """A subquery of customer ids whose search text contains `q` (empty list if `q` is empty)."""
    from guanxi.customers.models import CustomerSearch

    q = normalise_query(q)
    if not q:
        return []
    if len(q) < 3:
        return CustomerSearch.objects.filter(text__contains=q).values("customer_id")[:SHORT_QUERY_LIMIT]
    if connection.vendor == "sqlite":
        # A quoted FTS5 phrase over trigram tokens is an exact substring match.
        phrase = '"' + q.replace('"', '""') + '"'
        return RawSQL("SELECT rowid FROM customer_search_fts WHERE customer_search_fts MATCH %s", [phrase])
    return CustomerSearch.objects.filter(text__contains=q).values("customer_id")


def search_customers(user, q: str) -> QuerySet:
    """Visible customers matching `q`: the one search selector used by the API, the UI and exports."""
    from guanxi.core.visibility import visible_customers

    ids = matching_customer_ids(q)
    customers = visible_customers(user)
    return customers.filter(pk__in=ids) if q and q.strip() else customers
