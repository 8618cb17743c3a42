from rest_framework.permissions import DjangoModelPermissions

_VIEW = ["%(app_label)s.view_%(model_name)s"]


class RolePermissions(DjangoModelPermissions):
    """Django model permissions for every method, reads included: a user needs ``view_<model>``
    to read, ``add_`` to POST, ``change_`` to PUT/PATCH and ``delete_`` to DELETE. The roles in
    ``billing_project.roles`` grant them; superusers have them all. A user without a role gets 403
    ``permission_denied``; an anonymous one gets 401."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": _VIEW,
        "OPTIONS": _VIEW,
        "HEAD": _VIEW,
    }
