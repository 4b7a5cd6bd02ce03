"""Substring search index: SQLite FTS5 trigram table kept by triggers; PostgreSQL pg_trgm GIN."""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE customer_search_fts USING fts5(text, content='customers_customersearch', content_rowid='customer_id', tokenize='trigram')",
    """CREATE TRIGGER customer_search_ai AFTER INSERT ON customers_customersearch BEGIN
         INSERT INTO customer_search_fts(rowid, text) VALUES (new.customer_id, new.text); END""",
    """CREATE TRIGGER customer_search_ad AFTER DELETE ON customers_customersearch BEGIN
         INSERT INTO customer_search_fts(customer_search_fts, rowid, text) VALUES ('delete', old.customer_id, old.text); END""",
    """CREATE TRIGGER customer_search_au AFTER UPDATE OF text ON customers_customersearch BEGIN
         INSERT INTO customer_search_fts(customer_search_fts, rowid, text) VALUES ('delete', old.customer_id, old.text);
         INSERT INTO customer_search_fts(rowid, text) VALUES (new.customer_id, new.text); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS customer_search_au",
    "DROP TRIGGER IF EXISTS customer_search_ad",
    "DROP TRIGGER IF EXISTS customer_search_ai",
    "DROP TABLE IF EXISTS customer_search_fts",
]
POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_search_text_trgm ON customers_customersearch USING gin (text gin_trgm_ops)",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS customer_search_text_trgm"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
