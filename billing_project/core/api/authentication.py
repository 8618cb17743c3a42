"""API token authentication: django-rest-knox tokens (only a hash is stored; each expires).

Sent as ``Authorization: Token <token>`` or ``Authorization: Bearer <token>``. Any other scheme
is a 401 that names the accepted ones, rather than DRF's misleading "credentials were not
provided". No Authorization header at all falls through to session authentication (the
browsable API).

A request costs one query: the token, found by its digest (the primary key), with its user. knox's
own check also reads all the user's other tokens, to delete the expired ones, on every request;
here only the token used is checked (and deleted once expired), and a user's other expired tokens
are pruned when the user is issued a new one (``billing_project.core.tokens.api_token_issue``).

A token found in the database is then remembered by this process for ``API_TOKEN_CACHE_SECONDS``
(default 60; 0 turns it off): its digest, expiry, user row and, for a user who is not a superuser,
the user's permissions and the stores they work at (read once, when the token is remembered: a till's
role and store checks cost three queries otherwise). While remembered, a request costs no query; the
expiry is still checked on every request, and each request gets fresh objects. Deleting a token
(revoking it in the admin, ``api_token_revoke``, pruning) or saving or deleting its user forgets it in
this process at once, and so does any change of groups, permissions or a user's stores (a role given or taken, a group's
permissions changed, a user put in a store) made through the ORM here; the other workers keep their
entry until it is that old. So a revoked token, a deactivated user or a role taken away takes effect everywhere within
``API_TOKEN_CACHE_SECONDS``; changes made with ``QuerySet.update()`` (no signals) also wait for
that."""

import binascii
import time
from hmac import compare_digest

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import knox_settings
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from billing_project.core.db.orm_internals import instance_db, remember_permissions

SCHEMES = (b"token", b"bearer")

# digest -> (remembered until, on the monotonic clock; the database; the user's pk; the token's
# field values; the user's; the user's permissions and store ids, None for a superuser)
_remembered: dict[str, tuple[float, str | None, object, tuple, tuple, tuple[frozenset, list[int]] | None]] = {}
# Where a recalled user carries their store ids (``catalog.stores.visible_store_ids`` reads it).
STORE_IDS_ATTRIBUTE = "remembered_store_ids"
MAX_REMEMBERED = 10_000  # tokens in use at once on one node are far fewer; a flood just starts over
_clock = time.monotonic


def _cache_seconds() -> float:
    # A token renewed on use (knox's AUTO_REFRESH) must reach the database each time.
    return 0 if knox_settings.AUTO_REFRESH else settings.API_TOKEN_CACHE_SECONDS


_ATTNAMES: dict[type, tuple[str, ...]] = {}


def _attnames(model: type) -> tuple[str, ...]:
    names = _ATTNAMES.get(model)
    if names is None:
        names = _ATTNAMES[model] = tuple(field.attname for field in model._meta.concrete_fields)  # type: ignore[attr-defined]
    return names


def _values(instance) -> tuple:
    return tuple(getattr(instance, name) for name in _attnames(type(instance)))


def _remember(auth_token) -> None:
    seconds = _cache_seconds()
    if seconds <= 0:
        return
    if len(_remembered) >= MAX_REMEMBERED:
        _remembered.clear()
    user = auth_token.user
    # ModelBackend keeps a user's permissions on the user object (_perm_cache); read them now, on
    # this request's object too, so they are known from this moment on.
    perms = None
    if not user.is_superuser:
        # The stores through the user (``catalog.Store.staff``): this layer imports no app.
        stores = getattr(user, "stores", None)
        store_ids = sorted(stores.values_list("pk", flat=True)) if stores is not None else []
        perms = (frozenset(user.get_all_permissions()), store_ids)
        setattr(user, STORE_IDS_ATTRIBUTE, store_ids)
    _remembered[auth_token.digest] = (
        _clock() + seconds,
        instance_db(auth_token),
        user.pk,
        _values(auth_token),
        _values(user),
        perms,
    )


def _recall(digest: str):
    """The remembered token (a fresh instance, with a fresh user), or None."""
    entry = _remembered.get(digest)
    if entry is None:
        return None
    until, db, _user_pk, token_values, user_values, perms = entry
    if _clock() >= until or _cache_seconds() <= 0:
        _remembered.pop(digest, None)
        return None
    token_model = get_token_model()
    user_model = get_user_model()
    auth_token = token_model.from_db(db, _attnames(token_model), token_values)
    user = user_model.from_db(db, _attnames(user_model), user_values)
    if perms is not None:
        remember_permissions(user, perms[0])
        setattr(user, STORE_IDS_ATTRIBUTE, list(perms[1]))
    token_model.user.field.set_cached_value(auth_token, user)
    return auth_token


def _forget_token(sender, instance, **kwargs) -> None:
    _remembered.pop(instance.digest, None)


def _forget_user(sender, instance, **kwargs) -> None:
    for digest, entry in list(_remembered.items()):
        if entry[2] == instance.pk:
            _remembered.pop(digest, None)


def _forget_all(sender, **kwargs) -> None:
    # Groups and permissions change rarely (a role given or taken): start over.
    _remembered.clear()


def connect_signals() -> None:
    """Called from the core app's ready(): forget a token when it, its user, or any group or
    permission changes here."""
    token_model = get_token_model()
    post_save.connect(_forget_token, sender=token_model, dispatch_uid="api_token_cache_token_saved")
    post_delete.connect(_forget_token, sender=token_model, dispatch_uid="api_token_cache_token_deleted")
    user_model = get_user_model()
    post_save.connect(_forget_user, sender=user_model, dispatch_uid="api_token_cache_user_saved")
    post_delete.connect(_forget_user, sender=user_model, dispatch_uid="api_token_cache_user_deleted")
    for model in (Group, Permission):
        post_save.connect(_forget_all, sender=model, dispatch_uid=f"api_token_cache_{model.__name__}_saved")
        post_delete.connect(_forget_all, sender=model, dispatch_uid=f"api_token_cache_{model.__name__}_deleted")
    throughs = [user_model.groups.through, user_model.user_permissions.through, Group.permissions.through]
    stores = getattr(user_model, "stores", None)  # catalog.Store.staff, when installed
    if stores is not None:
        throughs.append(stores.through)
    for through in throughs:
        m2m_changed.connect(_forget_all, sender=through, dispatch_uid=f"api_token_cache_{through.__name__}_changed")


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth:
            return None
        if auth[0].lower() not in SCHEMES:
            raise exceptions.AuthenticationFailed(
                "Unsupported authorization scheme; send 'Authorization: Token <token>' or 'Bearer <token>'."
            )
        if len(auth) == 1:
            raise exceptions.AuthenticationFailed("Invalid token header: no token after the scheme.")
        if len(auth) > 2:
            raise exceptions.AuthenticationFailed("Invalid token header: the token must not contain spaces.")
        try:
            auth[1].decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return self.authenticate_credentials(auth[1])

    def authenticate_credentials(self, token):
        token = token.decode("utf-8")
        try:
            digest = hash_token(token)
        except (TypeError, binascii.Error):
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        auth_token = _recall(digest)
        if auth_token is None:
            auth_token = get_token_model().objects.select_related("user").filter(digest=digest).first()
            if auth_token is None or not compare_digest(digest, auth_token.digest):
                raise exceptions.AuthenticationFailed("Invalid token.")
            if auth_token.user.is_active:
                _remember(auth_token)
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            get_token_model().objects.filter(digest=auth_token.digest).delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            raise exceptions.AuthenticationFailed("Invalid token.")
        if knox_settings.AUTO_REFRESH and auth_token.expiry:
            self.renew_token(auth_token)
        return self.validate_user(auth_token)

    def authenticate_header(self, request):
        return "Token"


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>` or `Bearer <token>`, from `POST /api/v1/auth/token`. Tokens expire.",
        }
