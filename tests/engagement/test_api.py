"""Interactions and tasks over HTTP: contract, 422 naming the field, 409 on stale versions, 404 for others' records."""

import datetime

import pytest
from django.utils import timezone

from guanxi.engagement import services
from guanxi.engagement.models import Interaction, Task
from tests.factories import make_customer


def fields_named(response) -> set[str]:
    return {str(part) for error in response.json()["detail"] for part in error["loc"]}


@pytest.fixture
def client(api_as, rep):
    return api_as(rep)


def test_logging_and_listing_interactions(client, customer):
    created = client.post("/interactions", {"customer": customer.pk, "channel": "wechat", "direction": "in",
                                            "subject": "咨询新品", "content_type": "opinion", "phase": "during"})
    client.post("/interactions", {"customer": customer.pk, "channel": "phone", "direction": "out", "subject": "回电"})

    assert created.status_code == 201, created.content
    body = client.get("/interactions", customer=customer.pk, channel="wechat").json()
    assert body["count"] == 1 and body["items"][0]["subject"] == "咨询新品"
    assert client.get(f"/interactions/{created.json()['id']}").json()["phase"] == "during"


@pytest.mark.parametrize(("payload", "field"), [
    ({"channel": "telepathy"}, "channel"),
    ({"direction": "up"}, "direction"),
    ({"subject": ""}, "subject"),
    ({"subject": "a\x00b"}, "subject"),
    ({"occurred_at": "not a time"}, "occurred_at"),
    ({"contact": 2**70}, "contact"),
])
def test_bad_interactions_are_422_naming_the_field(client, customer, payload, field):
    base = {"customer": customer.pk, "channel": "phone", "direction": "in", "subject": "来电"}

    response = client.post("/interactions", {**base, **payload})

    assert response.status_code == 422, response.content
    assert field in fields_named(response)
    assert not Interaction.objects.exists()


def test_task_lifecycle_with_versions(client, rep, customer):
    created = client.post("/tasks", {"title": "回访", "assignee": rep.pk, "customer": customer.pk,
                                     "due_at": "2026-11-25T10:00:00+08:00"})
    assert created.status_code == 201, created.content
    task = created.json()

    edited = client.patch(f"/tasks/{task['id']}", {"version": task["version"], "priority": 3})
    stale = client.post(f"/tasks/{task['id']}/complete", {"version": task["version"]})
    done = client.post(f"/tasks/{task['id']}/complete", {"version": edited.json()["version"]})

    assert edited.status_code == 200 and edited.json()["priority"] == 3
    assert stale.status_code == 409
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert client.get("/tasks", mine=True, status="open").json()["count"] == 0


def test_task_filters_by_due_bucket(client, rep):
    now = timezone.now()
    late = services.create_task(title="过期", actor=rep, assignee=rep, due_at=now - datetime.timedelta(days=2))
    later = services.create_task(title="下周", actor=rep, assignee=rep, due_at=now + datetime.timedelta(days=7))

    overdue = client.get("/tasks", due="overdue", mine=True).json()
    upcoming = client.get("/tasks", due="upcoming", mine=True).json()

    assert [t["id"] for t in overdue["items"]] == [late.pk]
    assert [t["id"] for t in upcoming["items"]] == [later.pk]
    assert client.get("/tasks", due="someday").status_code == 422


def test_a_task_without_assignee_is_422(client):
    response = client.post("/tasks", {"title": "无人认领"})

    assert response.status_code == 422
    assert "assignee" in fields_named(response)


def test_another_reps_interactions_and_tasks_are_404(client, other_rep):
    theirs = make_customer(other_rep)
    interaction = services.log_interaction(customer=theirs, channel="phone", direction="in", subject="来电", actor=other_rep)
    task = services.create_task(title="他们的任务", actor=other_rep, assignee=other_rep, customer=theirs)

    assert client.get("/interactions").json()["count"] == 0
    assert client.get("/tasks").json()["count"] == 0
    for method, path, data in [
        ("get", f"/interactions/{interaction.pk}", None),
        ("get", f"/tasks/{task.pk}", None),
        ("patch", f"/tasks/{task.pk}", {"version": task.version, "title": "改"}),
        ("post", f"/tasks/{task.pk}/complete", {"version": task.version}),
        ("post", f"/tasks/{task.pk}/reassign", {"version": task.version, "assignee": client.user.pk}),
        ("post", "/interactions", {"customer": theirs.pk, "channel": "phone", "direction": "in", "subject": "x"}),
        ("post", "/tasks", {"title": "x", "assignee": client.user.pk, "customer": theirs.pk}),
        ("get", f"/customers/{theirs.pk}/timeline", None),
    ]:
        response = client.get(path) if method == "get" else getattr(client, method)(path, data)
        assert response.status_code == 404, (method, path, response.content)
    assert Task.objects.get(pk=task.pk).status == Task.Status.OPEN


def test_interaction_list_queries_do_not_grow_with_the_page(client, rep, customer, django_assert_max_num_queries):
    for n in range(15):
        services.log_interaction(customer=customer, channel="phone", direction="in", subject=f"来电{n}", actor=rep)

    with django_assert_max_num_queries(6):
        assert len(client.get("/interactions", limit=3).json()["items"]) == 3
    with django_assert_max_num_queries(6):
        assert len(client.get("/interactions", limit=15).json()["items"]) == 15
