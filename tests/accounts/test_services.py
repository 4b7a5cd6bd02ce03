"""Account services: creating users and offboarding in one step."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.accounts.models import ApiToken, Role, User
from guanxi.accounts.services import create_api_token, create_user, deactivate_user_and_reassign
from guanxi.customers.models import Customer, CustomerEvent, CustomerSearch
from guanxi.customers.search import search_customers
from guanxi.engagement.models import Task
from guanxi.sales.models import Opportunity, PipelineStage
from tests.factories import make_customer


def test_create_user_hashes_the_password_and_sets_the_role(admin_user, team):
    user = create_user(actor=admin_user, username="xiaoli", password="long-enough-pass-9", role=Role.MANAGER, team=team)
    assert user.check_password("long-enough-pass-9")
    assert user.password != "long-enough-pass-9"
    assert (user.role, user.team) == (Role.MANAGER, team)


def test_create_user_refuses_an_unknown_role(admin_user):
    with pytest.raises(ValidationError) as caught:
        create_user(actor=admin_user, username="x", password="long-enough-pass-9", role="wizard")
    assert "role" in caught.value.message_dict


@pytest.fixture
def leaver_with_work(rep, other_rep):
    """A rep who owns customers, open and closed opportunities, open and done tasks, and a token."""
    stage = PipelineStage.objects.create(name="洽谈", position=1)
    customers = [make_customer(rep, name=name) for name in ("李明华", "王芳", "张伟")]
    kept = make_customer(other_rep, name="别人的")
    open_opp = Opportunity.objects.create(customer=customers[0], title="续约", stage=stage, owner=rep)
    closed_opp = Opportunity.objects.create(customer=customers[0], title="旧单", stage=stage, owner=rep, closed_at="2025-01-01T00:00Z")
    open_task = Task.objects.create(title="回访", customer=customers[1], assignee=rep)
    done_task = Task.objects.create(title="已访", customer=customers[1], assignee=rep, status=Task.Status.DONE)
    create_api_token(user=rep, name="laptop", actor=rep)
    return {"customers": customers, "kept": kept, "open_opp": open_opp, "closed_opp": closed_opp,
            "open_task": open_task, "done_task": done_task}


def test_offboarding_moves_customers_open_opportunities_and_open_tasks_to_the_successor(rep, other_rep, admin_user, leaver_with_work):
    # when the admin offboards the rep to a colleague
    moved = deactivate_user_and_reassign(user=rep, to_user=other_rep, actor=admin_user)
    # then the leaver is inactive and owns nothing open
    assert not User.objects.get(pk=rep.pk).is_active
    assert moved == {"customers": 3, "opportunities": 1, "tasks": 1, "tokens_revoked": 1}
    assert set(Customer.objects.filter(owner=other_rep).values_list("name", flat=True)) == {"李明华", "王芳", "张伟", "别人的"}
    assert Opportunity.objects.get(pk=leaver_with_work["open_opp"].pk).owner == other_rep
    assert Task.objects.get(pk=leaver_with_work["open_task"].pk).assignee == other_rep
    # and history stays with the leaver
    assert Opportunity.objects.get(pk=leaver_with_work["closed_opp"].pk).owner == rep
    assert Task.objects.get(pk=leaver_with_work["done_task"].pk).assignee == rep


def test_offboarding_moves_the_search_rows_so_the_successor_finds_the_customers(rep, other_rep, admin_user, leaver_with_work):
    deactivate_user_and_reassign(user=rep, to_user=other_rep, actor=admin_user)
    assert [c.name for c in search_customers(other_rep, "明")] == ["李明华"]
    ids = [c.pk for c in leaver_with_work["customers"]]
    assert set(CustomerSearch.objects.filter(customer_id__in=ids).values_list("owner_id", flat=True)) == {other_rep.pk}


def test_offboarding_records_who_moved_each_customer(rep, other_rep, admin_user, leaver_with_work):
    deactivate_user_and_reassign(user=rep, to_user=other_rep, actor=admin_user)
    for customer in leaver_with_work["customers"]:
        assert CustomerEvent.objects.filter(customer=customer, verb="reassigned", actor=admin_user).count() == 1
    assert not CustomerEvent.objects.filter(customer=leaver_with_work["kept"], verb="reassigned").exists()


def test_offboarding_revokes_the_leavers_tokens(rep, other_rep, admin_user, leaver_with_work):
    deactivate_user_and_reassign(user=rep, to_user=other_rep, actor=admin_user)
    assert not ApiToken.objects.filter(user=rep, revoked_at__isnull=True).exists()


def test_offboarding_takes_the_same_number_of_queries_for_3_or_30_customers(rep, other_rep, admin_user, leaver_with_work, manager):
    # given a second leaver with ten times as many customers
    for _ in range(30):
        make_customer(manager)
    with CaptureQueriesContext(connection) as few:
        deactivate_user_and_reassign(user=rep, to_user=other_rep, actor=admin_user)
    with CaptureQueriesContext(connection) as many:
        deactivate_user_and_reassign(user=manager, to_user=other_rep, actor=admin_user)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_offboarding_to_an_inactive_or_the_same_user_is_refused(rep, other_rep, admin_user):
    with pytest.raises(ValidationError):
        deactivate_user_and_reassign(user=rep, to_user=rep, actor=admin_user)
    other_rep.is_active = False
    other_rep.save()
    with pytest.raises(ValidationError):
        deactivate_user_and_reassign(user=rep, to_user=other_rep, actor=admin_user)
    assert User.objects.get(pk=rep.pk).is_active
