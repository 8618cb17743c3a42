"""The messages middleware builds a request's message storage only when the request uses it."""

import pytest
from django.contrib import messages
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import empty

from billing_project.core.middleware import MessageMiddleware

pytestmark = pytest.mark.django_db


def test_an_api_request_never_builds_the_message_storage(admin_api):
    response = admin_api.get("/api/v1/payment-methods")

    assert response.status_code == 200
    assert response.wsgi_request._messages._wrapped is empty
    assert "messages" not in response.cookies


def _through_middleware(view, cookies=None):
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    request.session = SessionStore()
    return request, MessageMiddleware(lambda r: view(r))(request)


def test_a_message_added_reaches_the_next_request():
    def add(request):
        messages.success(request, "Till MAIN is open.")
        return HttpResponse("ok")

    _, response = _through_middleware(add)
    cookie = response.cookies["messages"].value

    def show(request):
        return HttpResponse(" | ".join(str(m) for m in messages.get_messages(request)))

    _, shown = _through_middleware(show, {"messages": cookie})
    assert shown.content.decode() == "Till MAIN is open."
    # shown once: the next response clears the cookie
    assert shown.cookies["messages"].value == ""
