from rest_framework.permissions import DjangoModelPermissions

from billing_project.core.db.orm_internals import ModelFromViewClass

_VIEW = ["%(app_label)s.view_%(model_name)s"]


class RolePermissions(ModelFromViewClass, DjangoModelPermissions):
    """Django model permissions for every method, reads included: a user needs ``view_<model>``
    to read, ``add_`` to POST, ``change_`` to PUT/PATCH and ``delete_`` to DELETE. The roles in
    ``billing_project.core.roles`` grant them; superusers have them all. A user without a role gets 403
    ``permission_denied``; an anonymous one gets 401."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": _VIEW,
        "OPTIONS": _VIEW,
        "HEAD": _VIEW,
    }


class ActionPermissions(RolePermissions):
    """``RolePermissions``, except where the view names the permissions of an action and method in
    ``action_permissions``: ``{(action, method): ("app.codename", ...)}``."""

    def has_permission(self, request, view):
        perms = getattr(view, "action_permissions", {}).get((view.action, request.method))
        if perms is None:
            return super().has_permission(request, view)
        return bool(request.user and request.user.is_authenticated and request.user.has_perms(perms))


class OverridablePermissions(ActionPermissions):
    """``ActionPermissions``, except that an action named in the view's ``overridable_actions``
    (``{(action, method), ...}``) also lets an authenticated user through whose body carries an
    ``override_token``: the service then checks the token and the rights of the manager who
    granted it (a bad token is 403 ``override_invalid``, a manager without the right 403
    ``permission_denied``)."""

    def has_permission(self, request, view):
        if super().has_permission(request, view):
            return True
        if (view.action, request.method) not in getattr(view, "overridable_actions", ()):
            return False
        if not (request.user and request.user.is_authenticated):
            return False
        data = request.data
        token = data.get("override_token") if isinstance(data, dict) else None
        return isinstance(token, str) and bool(token)
