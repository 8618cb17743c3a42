"""API token authentication: django-rest-knox tokens (only a hash is stored; each expires).

Sent as ``Authorization: Token <token>`` or ``Authorization: Bearer <token>``. Any other scheme
is a 401 that names the accepted ones, rather than DRF's misleading "credentials were not
provided". No Authorization header at all falls through to session authentication (the
browsable API).

A request costs one query: the token, found by its digest (the primary key), with its user. knox's
own check also reads all the user's other tokens, to delete the expired ones, on every request;
here only the token used is checked (and deleted once expired), and a user's other expired tokens
are pruned when the user is issued a new one (``billing_project.tokens.api_token_issue``)."""

import binascii
from hmac import compare_digest

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import knox_settings
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

SCHEMES = (b"token", b"bearer")


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
        auth_token = get_token_model().objects.select_related("user").filter(digest=digest).first()
        if auth_token is None or not compare_digest(digest, auth_token.digest):
            raise exceptions.AuthenticationFailed("Invalid token.")
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
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
