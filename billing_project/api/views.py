from django.contrib.auth import authenticate
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_project.errors import ErrorCode
from billing_project.lockout import retry_after_seconds
from billing_project.tokens import api_token_issue

from .schema import error_responses
from .throttling import ClientIPScopedRateThrottle


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(help_text="When the token stops working; then request a new one.")


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
            200: inline_serializer("Health", {"status": serializers.CharField(), "database": serializers.CharField()}),
            503: inline_serializer(
                "HealthDown", {"status": serializers.CharField(), "database": serializers.CharField()}
            ),
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
