"""Test data through the real services, so tests see what users would create."""

import itertools

from guanxi.accounts.models import Department, Role, Team, User
from guanxi.customers import services as customer_services

_seq = itertools.count(1)


def make_department(name: str | None = None) -> Department:
    return Department.objects.create(name=name or f"Department {next(_seq)}")


def make_team(name: str | None = None, department: Department | None = None) -> Team:
    return Team.objects.create(name=name or f"Team {next(_seq)}", department=department or make_department())


def make_user(role: str = Role.SALES, *, username: str | None = None, team: Team | None = None,
              department: Department | None = None, password: str = "pass-word-123", **fields) -> User:
    username = username or f"{role}{next(_seq)}"
    return User.objects.create_user(
        username=username, password=password, role=role, team=team, department=department,
        is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN, **fields,
    )


def make_customer(owner: User, *, name: str | None = None, **fields):
    return customer_services.create_customer(actor=owner, owner=owner, name=name or f"客户{next(_seq)}", **fields)
