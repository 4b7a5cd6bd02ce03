"""Every customer endpoint hides what a user may not see (404), and read-only roles cannot write (403)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.customers.models import Customer
from guanxi.customers.services import create_contact, upload_attachment
from tests.factories import make_customer


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}


@pytest.fixture
def theirs(other_rep):
    """Another rep's customer with a contact and a file."""
    customer = make_customer(other_rep, name="王芳华", phone="13912345678")
    contact = create_contact(customer=customer, actor=other_rep, name="赵敏")
    attachment = upload_attachment(customer=customer, file=SimpleUploadedFile("合同.pdf", b"%PDF-1.4"), actor=other_rep)
    return customer, contact, attachment


def _every_request(customer, contact, attachment):
    c, k, a = customer.pk, contact.pk, attachment.pk
    return [
        ("get", f"/customers/{c}", None),
        ("patch", f"/customers/{c}", {"name": "改", "version": 1}),
        ("post", f"/customers/{c}/state", {"to": "target", "reason": "x"}),
        ("get", f"/customers/{c}/history", None),
        ("get", f"/customers/{c}/contacts", None),
        ("post", f"/customers/{c}/contacts", {"name": "新人"}),
        ("get", f"/contacts/{k}", None),
        ("patch", f"/contacts/{k}", {"name": "改", "version": 1}),
        ("delete", f"/contacts/{k}", None),
        ("get", f"/customers/{c}/attachments", None),
        ("get", f"/attachments/{a}/download", None),
        ("delete", f"/attachments/{a}", None),
        ("post", f"/customers/{c}/share", {"user_id": customer.owner_id}),
        ("delete", f"/customers/{c}/share?user_id={customer.owner_id}", None),
    ]


def _send(client, method, path, data):
    if method == "get":
        return client.get(path)
    if method == "delete":
        return client.delete(path)
    return getattr(client, method)(path, data)


def test_a_rep_gets_404_from_every_endpoint_of_another_reps_customer(rep, api_as, theirs):
    client = api_as(rep)
    for method, path, data in _every_request(*theirs):
        response = _send(client, method, path, data)
        assert response.status_code == 404, (method, path, response.status_code)
    customer = Customer.objects.get(pk=theirs[0].pk)
    assert (customer.name, customer.state, customer.version) == ("王芳华", "potential", 1)
    assert customer.contacts.count() == 1 and customer.attachments.count() == 1


def test_a_rep_cannot_list_or_search_another_reps_customer(rep, api_as, theirs):
    client = api_as(rep)
    for query in (None, "王芳华", "芳", "wfh", "wangfanghua", "13912345678", "赵敏"):
        body = client.get("/customers", **({"search": query} if query else {})).json()
        assert body["count"] == 0 and body["items"] == [], query


def test_a_manager_of_another_department_gets_404(api_as, theirs, db):
    from guanxi.accounts.models import Role
    from tests.factories import make_department, make_team, make_user

    elsewhere = make_department("市场部")
    manager = make_user(Role.MANAGER, team=make_team("北方组", elsewhere), department=elsewhere)
    assert api_as(manager).get(f"/customers/{theirs[0].pk}").status_code == 404


def test_manager_of_the_department_reads_and_updates_the_customer(manager, department, api_as, theirs):
    manager.department = department
    manager.save()
    client = api_as(manager)
    assert client.get(f"/customers/{theirs[0].pk}").status_code == 200
    assert client.patch(f"/customers/{theirs[0].pk}", {"city": "杭州", "version": 1}).status_code == 200


@pytest.mark.parametrize("role_fixture", ["service_agent", "analyst"])
def test_read_only_roles_read_everything_but_get_403_on_every_write(request, api_as, theirs, role_fixture):
    client = api_as(request.getfixturevalue(role_fixture))
    for method, path, data in _every_request(*theirs):
        response = _send(client, method, path, data)
        expected = 200 if method == "get" else 403
        assert response.status_code == expected, (method, path, response.status_code)
    assert client.post("/customers", {"name": "新客户"}).status_code == 403


def test_admin_sees_every_customer(admin_user, api_as, theirs):
    assert api_as(admin_user).get(f"/customers/{theirs[0].pk}").status_code == 200


def test_without_a_token_every_endpoint_is_401(client, theirs):
    for method, path, _data in _every_request(*theirs):
        response = getattr(client, method)(f"/api/v1{path}")
        assert response.status_code == 401, (method, path)


def test_a_customer_that_does_not_exist_is_404_like_an_invisible_one(rep, api_as):
    assert api_as(rep).get("/customers/999999").json() == {"detail": "Not found."}
