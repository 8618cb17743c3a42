from django.contrib.auth import authenticate
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_project.core.errors import ErrorCode
from billing_project.core.lockout import retry_after_seconds
from billing_project.core.tokens import api_token_issue

from .fields import StrictCharField
from .schema import error_responses
from .throttling import ClientIPScopedRateThrottle


@extend_schema_serializer(component_name="TokenCreate")
class TokenRequestSerializer(serializers.Serializer):
    """A user's credentials, exchanged for a new API token."""

    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    """A new API token."""

    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>` (or `Bearer <token>`).")
    expiry = serializers.DateTimeField(help_text="When the token stops working; then request a new one.")


class HealthSerializer(serializers.Serializer):
    """The service is up and its database answers."""

    status = serializers.CharField(help_text="`ok`.")
    database = serializers.CharField(help_text="`ok`.")


class HealthDownSerializer(serializers.Serializer):
    """The service is up but its database does not answer."""

    status = serializers.CharField(help_text="`unavailable`.")
    database = serializers.CharField(help_text="`down`.")


class ObtainTokenView(APIView):
    """Exchange a username and password for a new API token: send it as `Authorization: Token <token>`
    (or `Bearer <token>`). Each call issues another token (one per till device); each expires after
    `API_TOKEN_TTL_HOURS`, and a manager can revoke it in the admin. Too many failed attempts for one
    username from one address lock that pair out for a while (429 `throttled`)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ClientIPScopedRateThrottle]
    throttle_scope = "auth_token"

    def get_authenticate_header(self, request):
        # No authentication class runs here, but a wrong password is still a 401, not a 403.
        return "Token"

    @extend_schema(
        tags=["auth"],
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **error_responses(ErrorCode.NOT_AUTHENTICATED, ErrorCode.THROTTLED)},
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # django-axes checks and records this attempt inside authenticate(); a locked-out pair is
        # refused before the password is tried.
        user = authenticate(request=request, **serializer.validated_data)
        if getattr(request, "axes_locked_out", False):
            raise Throttled(wait=retry_after_seconds(request), detail="Too many failed logins from this address.")
        if user is None or not user.is_active:
            raise AuthenticationFailed("Wrong username or password.")
        instance, token = api_token_issue(user=user)
        return Response({"token": token, "expiry": instance.expiry})


class HealthView(APIView):
    """Liveness and database check. No authentication."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["health"],
        auth=[],
        responses={
            200: HealthSerializer,
            503: HealthDownSerializer,
        },
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError:
            return Response({"status": "unavailable", "database": "down"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"status": "ok", "database": "ok"})
