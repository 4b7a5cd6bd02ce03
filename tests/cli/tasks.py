"""Tasks the worker tests enqueue (tasks must be importable by path)."""

from django.tasks import task


class Flaky(Exception):
    pass


@task()
def always_fails():
    raise Flaky("the remote service is down")


@task()
def succeeds(value: int) -> int:
    return value * 2
