"""Fast row inserts for the demo: ≤5,000-row transactions on SQLite, COPY on PostgreSQL.

Rows are plain tuples in the order of the table's declared fields — no model instances, no
`save()` — so the caller computes everything `save()` or a service would (search text,
versions, timestamps). Datetimes arrive as naive UTC and are written the way Django writes
them: naive UTC text on SQLite, timestamptz on PostgreSQL.
"""

import datetime
import json

from django.core.management.color import no_style
from django.db import connection, models, transaction

SQLITE_BATCH = 5_000  # DESIGN.md pitfall 1: bulk jobs commit every ≤5,000 rows
COPY_BATCH = 50_000


class Table:
    """A model's table and the fields the demo fills, in tuple order."""

    def __init__(self, model: type[models.Model], fields: list[str]):
        self.model = model
        self.fields = [model._meta.get_field(name) for name in fields]
        self.name = model._meta.db_table
        self.columns = [f.column for f in self.fields]
        self.rows: list[tuple] = []
        self._convert = [self._converter(f) for f in self.fields]

    @staticmethod
    def _converter(field):
        if isinstance(field, models.DateTimeField):
            if connection.vendor == "sqlite":
                return lambda v: None if v is None else str(v)
            return lambda v: None if v is None else v.replace(tzinfo=datetime.UTC)
        if isinstance(field, models.JSONField):
            return lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True)
        return None

    def add(self, *row) -> None:
        self.rows.append(row)

    def prepared(self):
        converters = list(enumerate(self._convert))
        active = [(i, c) for i, c in converters if c is not None]
        for row in self.rows:
            if active:
                row = list(row)
                for i, convert in active:
                    row[i] = convert(row[i])
            yield row


def next_id(model: type[models.Model]) -> int:
    """The first free primary key: the demo assigns ids itself so rows can point at each other."""
    return (model._default_manager.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def flush(table: Table) -> int:
    """Insert the buffered rows and empty the buffer; returns the number written."""
    count = len(table.rows)
    if not count:
        return 0
    rows = list(table.prepared())
    table.rows.clear()
    columns = ", ".join(connection.ops.quote_name(c) for c in table.columns)
    name = connection.ops.quote_name(table.name)
    if connection.vendor == "postgresql":
        for start in range(0, count, COPY_BATCH):
            with transaction.atomic(), connection.cursor() as cursor:
                with cursor.connection.cursor() as raw, raw.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                    for row in rows[start:start + COPY_BATCH]:
                        copy.write_row(row)
    else:
        placeholders = ", ".join(["%s"] * len(table.columns))
        sql = f"INSERT INTO {name} ({columns}) VALUES ({placeholders})"
        for start in range(0, count, SQLITE_BATCH):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows[start:start + SQLITE_BATCH])
    return count


def reset_sequences(model_list: list[type[models.Model]]) -> None:
    """After inserting explicit ids, point PostgreSQL's identity sequences past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def relax_durability() -> None:
    """PostgreSQL: don't wait for the WAL flush at each batch commit (a crash loses the last batches, never
    consistency); the demo can simply be run again."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")


def optimise() -> None:
    """Fresh planner statistics after a bulk load (DESIGN.md pitfall 9); skipped inside a transaction."""
    if connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("INSERT INTO customer_search_fts(customer_search_fts) VALUES ('optimize')")
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA optimize")
