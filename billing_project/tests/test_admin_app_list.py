"""The admin's app list (``BillingAdminSite.get_app_list``) is built only where a page shows it: the
index and an app's page, not every list and form (each_context's ``available_apps``, for the nav
sidebar this site turns off)."""

import pytest
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.test import RequestFactory
from django.urls import reverse

from billing_project.admin_site import BillingAdminSite

pytestmark = pytest.mark.django_db


@pytest.fixture
def builds(monkeypatch):
    """Every app list built, as (app_label) of the call."""
    built: list = []
    build = BillingAdminSite.built_app_list

    def counted(site, request, app_label=None):
        built.append(app_label)
        return build(site, request, app_label)

    monkeypatch.setattr(BillingAdminSite, "built_app_list", counted)
    return built


@pytest.mark.parametrize(
    "page",
    [
        "admin:purchases_purchase_changelist",
        "admin:catalog_product_changelist",
        "admin:catalog_product_add",
        "admin:sales_report",
    ],
)
def test_a_page_without_the_app_list_does_not_build_it(manager_client, builds, page):
    response = manager_client.get(reverse(page))

    assert response.status_code == 200
    assert "available_apps" in response.context  # Django's context still has it, unread
    assert builds == []


def test_the_index_shows_the_app_list(manager_client, builds):
    response = manager_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert builds == [None]
    assert reverse("admin:purchases_purchase_changelist") in response.text
    assert reverse("admin:catalog_product_changelist") in response.text


def test_an_apps_page_lists_its_models(manager_client, builds):
    found = manager_client.get(reverse("admin:app_list", args=["catalog"]))

    assert found.status_code == 200
    assert reverse("admin:catalog_product_changelist") in found.text
    assert builds == ["catalog"]


def test_an_apps_page_is_404_to_a_user_who_sees_none_of_its_models(client, django_user_model, builds):
    # Django's app page answers 404 when the app list is empty: the lazy list is false then too.
    client.force_login(django_user_model.objects.create_user("staff", password="x", is_staff=True))

    assert client.get(reverse("admin:app_list", args=["catalog"])).status_code == 404
    assert builds == ["catalog"]


def test_the_lazy_list_is_djangos_list(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser

    lazy = admin.site.get_app_list(request)
    plain = AdminSite.get_app_list(admin.site, request)

    assert list(lazy) == plain
    assert len(lazy) == len(plain) and bool(lazy)
    assert lazy[0] == plain[0]
    assert [app["app_label"] for app in admin.site.get_app_list(request, "catalog")] == ["catalog"]
