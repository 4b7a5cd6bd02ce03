"""Files on customers: allowlisted types, 10 MB cap, served only to who may see the customer, never rendered."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.customers.models import Attachment, CustomerEvent
from guanxi.customers.services import ATTACHMENT_MAX_BYTES
from tests.factories import make_customer


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    return tmp_path


def _upload(api, customer, name, content, content_type="application/octet-stream"):
    return api.client.post(
        f"/api/v1/customers/{customer.pk}/attachments", {"file": SimpleUploadedFile(name, content, content_type=content_type)}
    )


def test_upload_stores_the_file_under_uploads_and_lists_it(rep, api_as, uploads_in_tmp):
    customer = make_customer(rep)
    api = api_as(rep)

    response = _upload(api, customer, "报价单.pdf", b"%PDF-1.4 quote")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["original_name"], body["content_type"], body["size"]) == ("报价单.pdf", "application/pdf", 14)
    stored = Attachment.objects.get(pk=body["id"]).file.path
    assert stored.startswith(str(uploads_in_tmp))
    assert api.get(f"/customers/{customer.pk}/attachments").json()["count"] == 1
    assert CustomerEvent.objects.filter(customer=customer, verb="attachment_added").exists()


def test_download_is_served_as_attachment_with_nosniff_and_sandbox_csp(rep, api_as):
    customer = make_customer(rep)
    api = api_as(rep)
    attachment_id = _upload(api, customer, "notes.txt", b"hello").json()["id"]

    response = api.get(f"/attachments/{attachment_id}/download")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"hello"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Type"].startswith("text/plain")


def test_download_is_404_to_a_rep_who_cannot_see_the_customer(rep, other_rep, api_as):
    customer = make_customer(rep)
    attachment_id = _upload(api_as(rep), customer, "notes.txt", b"secret").json()["id"]

    response = api_as(other_rep).get(f"/attachments/{attachment_id}/download")

    assert response.status_code == 404
    assert b"secret" not in response.content


@pytest.mark.parametrize("name", ["page.html", "script.svg", "run.exe", "noextension", "x.js"])
def test_files_that_a_browser_could_run_are_refused_with_422_naming_file(rep, api_as, name):
    customer = make_customer(rep)
    response = _upload(api_as(rep), customer, name, b"<script>alert(1)</script>", "text/plain")
    assert response.status_code == 422
    assert "file" in str(response.json()["detail"])
    assert not Attachment.objects.exists()


def test_the_declared_content_type_is_ignored_in_favour_of_the_extension(rep, api_as):
    customer = make_customer(rep)
    body = _upload(api_as(rep), customer, "photo.png", b"\x89PNG", "text/html").json()
    assert body["content_type"] == "image/png"


def test_files_over_10_mb_are_refused(rep, api_as):
    customer = make_customer(rep)
    response = _upload(api_as(rep), customer, "big.pdf", b"0" * (ATTACHMENT_MAX_BYTES + 1))
    assert response.status_code == 422
    assert "10 MB" in str(response.json()["detail"])


def test_a_path_in_the_file_name_is_dropped(rep, api_as):
    customer = make_customer(rep)
    body = _upload(api_as(rep), customer, "../../etc/passwd.txt", b"x").json()
    assert body["original_name"] == "passwd.txt"


def test_deleting_an_attachment_removes_the_file_after_commit(rep, api_as, django_capture_on_commit_callbacks):
    customer = make_customer(rep)
    api = api_as(rep)
    attachment_id = _upload(api, customer, "a.txt", b"x").json()["id"]
    path = Attachment.objects.get(pk=attachment_id).file.path

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/attachments/{attachment_id}").status_code == 204

    import os

    assert not os.path.exists(path)
    assert api.get(f"/attachments/{attachment_id}/download").status_code == 404
