"""API token authentication: django-rest-knox tokens (only a hash is stored; each expires).

Sent as ``Authorization: Token <token>`` or ``Authorization: Bearer <token>``. Any other scheme
is a 401 that names the accepted ones, rather than DRF's misleading "credentials were not
provided". No Authorization header at all falls through to session authentication (the
browsable API)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
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
