"""Who sees which customers: one function, every role (issue 3)."""

from guanxi.accounts.models import Role
from guanxi.core.visibility import can_edit_customer, visible_customers
from guanxi.customers.services import share_customer
from tests.factories import make_customer, make_team, make_user


def test_sales_rep_sees_own_and_shared_customers_only(rep, other_rep):
    mine = make_customer(rep, name="李明华")
    theirs = make_customer(other_rep, name="王芳")
    shared = make_customer(other_rep, name="张伟")
    share_customer(customer=shared, user=rep, actor=other_rep)

    ids = set(visible_customers(rep).values_list("pk", flat=True))

    assert ids == {mine.pk, shared.pk}
    assert theirs.pk not in ids


def test_manager_sees_team_and_department_but_not_other_departments(rep, other_rep, team, department):
    manager = make_user(Role.MANAGER, team=team, department=department)
    elsewhere = make_user(Role.SALES, team=make_team())
    in_team = make_customer(rep)
    in_department = make_customer(other_rep)
    outside = make_customer(elsewhere)

    ids = set(visible_customers(manager).values_list("pk", flat=True))

    assert {in_team.pk, in_department.pk} <= ids
    assert outside.pk not in ids


def test_visibility_never_duplicates_rows_when_many_conditions_match(rep, team, department):
    manager = make_user(Role.MANAGER, team=team, department=department)
    customers = [make_customer(manager) for _ in range(3)]
    for customer in customers:
        share_customer(customer=customer, user=manager, actor=manager)

    qs = visible_customers(manager)

    ids = list(qs.values_list("pk", flat=True))
    assert qs.count() == len(ids) == len(set(ids))


def test_service_agent_and_analyst_see_all_but_edit_nothing(rep, service_agent, analyst):
    customer = make_customer(rep)
    for user in (service_agent, analyst):
        assert visible_customers(user).filter(pk=customer.pk).exists()
        assert not can_edit_customer(user, customer)
    assert can_edit_customer(rep, customer)


def test_inactive_user_sees_nothing(rep):
    make_customer(rep)
    rep.is_active = False
    rep.save()
    assert not visible_customers(rep).exists()
