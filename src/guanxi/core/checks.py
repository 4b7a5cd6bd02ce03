"""System checks for things that break quietly in production."""

from django.conf import settings
from django.core.checks import Error, register
from django.db import connection


@register("database", deploy=False)
def pg_trgm_extracts_chinese(app_configs, databases=None, **kwargs):
    """pg_trgm extracts nothing from Chinese in a C-locale database: search would find nothing."""
    if not databases or "default" not in databases or connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT show_trgm('李明华')")
            trigrams = cursor.fetchone()[0]
    except Exception:  # extension not yet created (before migrate)
        return []
    if not trigrams:
        return [
            Error(
                "pg_trgm extracts no trigrams from Chinese text in this database.",
                hint="Create the database with a UTF-8 locale (e.g. LC_CTYPE=C.UTF-8).",
                id="guanxi.E001",
            )
        ]
    return []


@register()
def secret_key_is_set(app_configs, **kwargs):
    if not settings.SECRET_KEY:
        return [Error("SECRET_KEY is empty.", id="guanxi.E002")]
    return []
