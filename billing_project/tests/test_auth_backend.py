"""``PermissionsInOneQuery``: a user's permissions, their own and their groups', read in one query, the
same set as Django's ModelBackend reads in two; passwords stay Django's backend's."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from billing_project.core.auth_backend import PermissionsInOneQuery, permission_names
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a new request reads it: no permission remembered yet."""
    return get_user_model().objects.get(pk=user.pk)


def djangos(user) -> set[str]:
    return ModelBackend().get_all_permissions(fresh(user))


@pytest.fixture
def mixed_user():
    """Permissions of their own, from two groups, and one both ways."""
    user = UserFactory(username="mixed")
    add, view = Permission.objects.get(codename="add_product"), Permission.objects.get(codename="view_product")
    refund = Permission.objects.get(codename="add_refund")
    user.user_permissions.add(add, view)
    first, second = Group.objects.create(name="first"), Group.objects.create(name="second")
    first.permissions.add(view, refund)
    second.permissions.add(Permission.objects.get(codename="view_purchase"))
    user.groups.add(first, second)
    return user


@pytest.mark.parametrize("who", ["mixed_user", "cashier_user", "manager_user", "superuser"])
def test_the_permissions_are_djangos_in_one_query(request, who):
    user = request.getfixturevalue(who)
    expected = djangos(user)
    user = fresh(user)

    with CaptureQueriesContext(connection) as queries:
        found = PermissionsInOneQuery().get_all_permissions(user)
        again = user.get_all_permissions()  # every backend, from what the first remembered

    assert found == again == expected and expected
    assert len(queries.captured_queries) == 1


def test_a_page_checks_a_role_in_one_query(cashier_user):
    user = fresh(cashier_user)

    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("purchases.add_purchase")
        assert not user.has_perm("catalog.delete_product")
        assert user.has_module_perms("purchases")

    assert len(queries.captured_queries) == 1


def test_no_permission_for_an_inactive_user_an_object_or_nobody(mixed_user):
    from django.contrib.auth.models import AnonymousUser

    mixed_user.is_active = False
    assert PermissionsInOneQuery().get_all_permissions(mixed_user) == set()
    assert PermissionsInOneQuery().get_all_permissions(fresh(mixed_user), obj=object()) == set()
    assert PermissionsInOneQuery().get_all_permissions(AnonymousUser()) == set()


def test_a_user_without_any_permission_has_none():
    assert permission_names(UserFactory(username="nobody")) == set()


def test_passwords_are_djangos_backends_checked_once(monkeypatch):
    user = UserFactory(username="pw")
    user.set_password("right horse battery")
    user.save()
    checks: list[str] = []
    real = get_user_model().check_password

    def check_password(self, raw):
        checks.append(raw)
        return real(self, raw)

    monkeypatch.setattr(get_user_model(), "check_password", check_password)

    login = RequestFactory().post("/accounts/login/")
    assert authenticate(login, username="pw", password="wrong") is None
    assert checks == ["wrong"]  # one backend hashed it
    found = authenticate(login, username="pw", password="right horse battery")
    assert found == user and found.backend == "django.contrib.auth.backends.ModelBackend"
