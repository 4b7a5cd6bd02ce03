"""Optimistic locking: a concurrent edit is detected, never silently overwritten."""

from django.db import models
from django.db.models import F


class StaleVersion(Exception):
    """Someone saved the object after the editor loaded it; `current` is the fresh copy."""

    def __init__(self, current: models.Model):
        super().__init__(f"{type(current).__name__} {current.pk} was changed by someone else")
        self.current = current


def save_versioned(obj: models.Model, *, expected_version: int, fields: list[str]) -> models.Model:
    """Write `fields` only if the row still has `expected_version`; bump it, else raise StaleVersion.

    Must run inside transaction.atomic().
    """
    model = type(obj)
    values = {name: getattr(obj, name) for name in fields}
    if any(f.name == "updated_at" for f in model._meta.fields):
        from django.utils import timezone

        values["updated_at"] = timezone.now()
    updated = model._default_manager.filter(pk=obj.pk, version=expected_version).update(
        version=F("version") + 1, **values
    )
    if updated == 0:
        raise StaleVersion(model._default_manager.get(pk=obj.pk))
    obj.refresh_from_db()
    return obj
