"""The permission check behind every page, admin page and API token, in one query rather than two."""

from django.contrib.auth import backends
from django.contrib.auth.models import Permission

from billing_project.core.db.orm_internals import permissions_remembered, remember_permissions


def permission_names(user) -> set[str]:
    """``app_label.codename`` of every permission ``user`` has, their own and their groups', in one
    query (every permission for a superuser), as ``ModelBackend.get_all_permissions`` gives them."""
    if user.is_superuser:
        rows = Permission.objects.values_list("content_type__app_label", "codename").order_by()
    else:
        own = Permission.objects.filter(user=user).values_list("content_type__app_label", "codename").order_by()
        groups = Permission.objects.filter(group__user=user).values_list("content_type__app_label", "codename")
        rows = own.union(groups.order_by())
    return {f"{app_label}.{codename}" for app_label, codename in rows}


class PermissionsInOneQuery(backends.ModelBackend):
    """Django's ``ModelBackend`` for permissions only: the first check of a request (a role's page,
    the admin's, an API token remembered) reads the user's own and group permissions in one query
    (``permission_names``), where Django's reads each in a query of its own; the same set, kept on the
    user object as Django keeps it, which Django's backend after this one then reads too.

    It logs no one in: Django's backend, next in ``AUTHENTICATION_BACKENDS``, checks passwords (once)
    and stays the backend that sessions name, so the sessions made before this one came stay valid."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        if user_obj.is_active and not user_obj.is_anonymous and obj is None and not permissions_remembered(user_obj):
            remember_permissions(user_obj, permission_names(user_obj))
        return super().get_all_permissions(user_obj, obj)
