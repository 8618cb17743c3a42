from decimal import Decimal

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_project.core.api.fields import StrictIntegerField
from billing_project.core.api.permissions import ActionPermissions, OverridablePermissions, RolePermissions
from billing_project.core.api.schema import error_responses
from billing_project.core.errors import ErrorCode, ValidationFailed
from billing_project.core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent_response
from catalog.stores import CHAIN_WIDE, scope, till_visible

from .errors import TillNotFound
from .models import Denomination, Till, TillSession
from .selectors import cash_movement_get, default_till_drawer, drawer_list, session_list, till_list
from .serializers import (
    CashMovementCreateSerializer,
    CashMovementSerializer,
    DenominationCountSerializer,
    DenominationSerializer,
    OverrideCreateSerializer,
    OverrideGrantSerializer,
    OverrideSerializer,
    PinSetSerializer,
    SessionCountSerializer,
    SessionDecisionSerializer,
    SessionReportSerializer,
    SessionSerializer,
    TillSerializer,
)
from .services import (
    can_approve_override,
    can_approve_variance,
    cash_movement_create,
    denomination_create,
    drawer_set_count,
    manager_pin_set,
    override_grant,
    override_list,
    session_approve,
    session_close,
    session_open,
    session_recount,
    session_report,
    till_create,
    till_update,
)


def is_blind(request) -> bool:
    """The close is blind: a user without ``approve_variance`` sees no drawer counts, no expected
    cash and no variance."""
    return not can_approve_variance(request.user)


def blind_report(report: dict, request) -> dict:
    """A session's report as ``request``'s user may see it."""
    if not is_blind(request):
        return report
    return {**report, "cash": {**report["cash"], "expected": None, "counted": None, "variance": None}}


class SessionFilterSerializer(serializers.Serializer):
    till = StrictIntegerField(min_value=1, max_value=2**63 - 1, required=False)
    status = serializers.ChoiceField(choices=TillSession.Status.choices, required=False)


VALUE_PARAMETER = OpenApiParameter(
    "value",
    str,
    OpenApiParameter.PATH,
    pattern=r"^[0-9]{1,10}(?:\.[0-9]{1,2})?$",
    description="The note or coin value: `500` and `500.00` both work.",
)


@extend_schema_view(
    create=extend_schema(
        responses={
            201: DenominationSerializer,
            **error_responses(ErrorCode.DENOMINATION_EXISTS, ErrorCode.TOO_MANY_DENOMINATIONS),
        },
        description="Add a note or coin value to the default till's drawer, with its starting count. A value the "
        "drawer has is 409 `denomination_exists`: set its count with `PUT` instead.",
    ),
    list=extend_schema(
        description="The default till's drawer: one row per note or coin value, highest first. Not paginated."
    ),
    retrieve=extend_schema(parameters=[VALUE_PARAMETER], description="One value of the default till's drawer."),
    update=extend_schema(
        parameters=[VALUE_PARAMETER],
        request=DenominationCountSerializer,
        responses=DenominationSerializer,
        description="Set the count. The change is recorded in the drawer ledger as a manual movement.",
    ),
)
@extend_schema(tags=["denominations"])
class DenominationViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The default till's drawer: one row per note or coin value, highest first. Not paginated."""

    serializer_class = DenominationSerializer
    permission_classes = [RolePermissions]
    pagination_class = None
    lookup_field = "value"
    lookup_value_regex = r"[0-9]{1,10}(?:\.[0-9]{1,2})?"

    store_rule = "cashdrawer.denomination"

    def get_queryset(self):
        return scope(default_till_drawer(), self.request.user).order_by("-value")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "blind": is_blind(self.request)}

    def get_object(self):
        # Compare as a Decimal, so `/500` finds the 500.00 row.
        self.kwargs[self.lookup_field] = Decimal(self.kwargs[self.lookup_field])
        return super().get_object()

    def perform_create(self, serializer):
        data = serializer.validated_data
        if not till_visible(self.request.user, None):
            raise TillNotFound()
        serializer.instance = denomination_create(
            value=data["value"], count=data.get("count", 0), user=self.request.user, reason="denomination added"
        )

    def update(self, request, *args, **kwargs):
        denomination = self.get_object()
        serializer = DenominationCountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        denomination = drawer_set_count(
            value=denomination.value,
            count=serializer.validated_data["available_count"],
            user=request.user,
            reason=serializer.validated_data["reason"] or "set through the API",
        )
        return Response(DenominationSerializer(denomination).data, status=status.HTTP_200_OK)


# --- Tills and sessions ---------------------------------------------------------------------------


SESSION_COUNT_DOC = (
    "`counted` is the whole drawer, `[{value, count}]`; a known value left out counts as 0, an unknown one is a "
    "`validation_error`."
)
VALUE_PATH = r"(?P<value>[0-9]{1,10}(?:\.[0-9]{1,2})?)"


def _refresh_till(till_id: int) -> Till:
    return till_list().get(pk=till_id)


def _store_named(data: dict) -> dict:
    """The serializer's ``store_id`` as the services' ``store``."""
    data = dict(data)
    if "store_id" in data:
        data["store"] = data.pop("store_id")
    return data


@extend_schema_view(
    create=extend_schema(
        request=TillSerializer,
        responses={201: TillSerializer, **error_responses(ErrorCode.TILL_EXISTS)},
        description="Add a till with an empty drawer. Managers only.",
    ),
    partial_update=extend_schema(
        request=TillSerializer,
        responses={200: TillSerializer, **error_responses(ErrorCode.TILL_EXISTS, ErrorCode.DEFAULT_TILL_RENAME)},
        description=(
            "Change a till's code, name, series or flags. Managers only. The default till's (`DEFAULT_TILL`) "
            "code cannot change: 409 `default_till_rename`."
        ),
    ),
    list=extend_schema(description="Tills by code, each with its open session (`current_session`)."),
    retrieve=extend_schema(description="One till, with its open session (`current_session`)."),
)
@extend_schema(tags=["tills"])
class TillViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tills by code, each with its open session (`current_session`)."""

    serializer_class = TillSerializer
    permission_classes = [ActionPermissions]
    lookup_value_regex = r"[0-9]{1,18}"
    http_method_names = ["get", "post", "patch", "put", "head", "options"]
    action_permissions = {
        ("drawer", "GET"): ("cashdrawer.view_denomination",),
        ("drawer", "POST"): ("cashdrawer.add_denomination",),
        ("drawer_set", "PUT"): ("cashdrawer.change_denomination",),
        ("sessions", "POST"): ("cashdrawer.add_tillsession",),
    }

    store_rule = "cashdrawer.till"

    def get_queryset(self):
        return scope(till_list(), self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = TillSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        till = till_create(**_store_named(serializer.validated_data))
        return Response(TillSerializer(_refresh_till(till.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        till = self.get_object()
        serializer = TillSerializer(till, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        till_update(till_id=till.pk, **_store_named(serializer.validated_data))
        return Response(TillSerializer(_refresh_till(till.pk)).data)

    @extend_schema(
        methods=["GET"],
        responses=DenominationSerializer(many=True),
        description="The till's drawer, highest value first. Not paginated.",
    )
    @extend_schema(
        methods=["POST"],
        request=DenominationSerializer,
        responses={
            201: DenominationSerializer,
            **error_responses(ErrorCode.DENOMINATION_EXISTS, ErrorCode.TOO_MANY_DENOMINATIONS),
        },
        description="Add a value to the till's drawer (managers); a starting count is a `manual_set` movement.",
    )
    @action(detail=True, methods=["get", "post"], url_path="denominations", pagination_class=None)
    def drawer(self, request, pk=None, format=None):
        till = self.get_object()
        if request.method == "GET":
            rows = drawer_list(till_id=till.pk)
            return Response(DenominationSerializer(rows, many=True, context={"blind": is_blind(request)}).data)
        serializer = DenominationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        denomination = denomination_create(
            value=data["value"], count=data.get("count", 0), user=request.user, reason="denomination added", till=till
        )
        return Response(DenominationSerializer(denomination).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[VALUE_PARAMETER],
        request=DenominationCountSerializer,
        responses=DenominationSerializer,
        description="Set the count (managers). Recorded in the ledger as a `manual_set` movement.",
    )
    @action(detail=True, methods=["put"], url_path=f"denominations/{VALUE_PATH}")
    def drawer_set(self, request, pk=None, value=None, format=None):
        till = self.get_object()
        denomination = get_object_or_404(Denomination, till=till, value=Decimal(value))
        serializer = DenominationCountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        denomination = drawer_set_count(
            value=denomination.value,
            count=serializer.validated_data["available_count"],
            user=request.user,
            reason=serializer.validated_data["reason"] or "set through the API",
            till=till,
        )
        return Response(DenominationSerializer(denomination).data)

    @extend_schema(
        request=SessionCountSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: SessionSerializer,
            **error_responses(
                ErrorCode.VALIDATION_ERROR,
                ErrorCode.SESSION_OPEN,
                ErrorCode.SESSION_PENDING_APPROVAL,
                ErrorCode.TILL_INACTIVE,
                ErrorCode.VARIANCE_NEEDS_MANAGER,
                ErrorCode.OVERRIDE_INVALID,
                ErrorCode.IDEMPOTENCY_CONFLICT,
                ErrorCode.IDEMPOTENCY_IN_PROGRESS,
            ),
        },
        description="Open a session with the counted float. Differences from the ledger are posted as "
        "`open_count` movements and summed in `opening_variance`; past `CASH_VARIANCE_LIMIT` that needs "
        "`approve_variance` (managers), or an `override_token` for `open_variance`, otherwise 409 "
        "`variance_needs_manager` and nothing changes. 409 `session_pending_approval` while the till's last count "
        "waits for a manager. " + SESSION_COUNT_DOC,
    )
    @action(detail=True, methods=["post"], url_path="sessions")
    def sessions(self, request, pk=None, format=None):
        till = self.get_object()
        serializer = SessionCountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def open_session():
            session = session_open(till_id=till.pk, user=request.user, **serializer.validated_data)
            return status.HTTP_201_CREATED, SessionSerializer(session, context={"blind": is_blind(request)}).data

        return idempotent_response(request, open_session)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "till",
                {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                description="Only this till's sessions (id).",
            ),
            OpenApiParameter(
                "status",
                str,
                enum=["open", "pending_approval", "closed"],
                description="Only open, pending approval or closed sessions.",
            ),
        ],
        description="Till sessions (shifts), newest first.",
    ),
    retrieve=extend_schema(
        description="One till session: its counts at the open and, once closed, the count, what the ledger "
        "expected and the variance."
    ),
)
@extend_schema(tags=["sessions"])
class TillSessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Till sessions (shifts), newest first."""

    serializer_class = SessionSerializer
    permission_classes = [OverridablePermissions]
    lookup_value_regex = r"[0-9]{1,18}"
    action_permissions = {
        ("cash_movements", "POST"): ("cashdrawer.add_cashmovement",),
        ("close", "POST"): ("cashdrawer.change_tillsession",),
        ("approve", "POST"): ("cashdrawer.approve_variance",),
        ("recount", "POST"): ("cashdrawer.approve_variance",),
        ("report", "GET"): ("cashdrawer.view_tillsession",),
    }
    # A cashier without add_cashmovement may move cash with a manager's override token.
    overridable_actions = {("cash_movements", "POST")}

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "blind": is_blind(self.request)}

    store_rule = "cashdrawer.tillsession"

    def get_queryset(self):
        if self.action != "list":
            return scope(session_list(), self.request.user)
        # A plain dict: a QueryDict would let an empty `?status=` through as if it were absent.
        serializer = SessionFilterSerializer(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        sessions = session_list(
            till_id=serializer.validated_data.get("till"), status=serializer.validated_data.get("status")
        )
        return scope(sessions, self.request.user)

    @extend_schema(
        request=CashMovementCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: CashMovementSerializer,
            **error_responses(
                ErrorCode.VALIDATION_ERROR,
                ErrorCode.INSUFFICIENT_CASH,
                ErrorCode.SESSION_CLOSED,
                ErrorCode.SESSION_PENDING_APPROVAL,
                ErrorCode.OVERRIDE_INVALID,
                ErrorCode.IDEMPOTENCY_CONFLICT,
                ErrorCode.IDEMPOTENCY_IN_PROGRESS,
            ),
        },
        description="Pay cash into or out of the till: a float top-up, a payout, a safe drop. Managers, "
        "cashiers given `cashdrawer.add_cashmovement`, and others with an `override_token` for `cash_movement`.",
    )
    @action(detail=True, methods=["post"], url_path="cash-movements")
    def cash_movements(self, request, pk=None, format=None):
        session = self.get_object()
        serializer = CashMovementCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def move():
            movement = cash_movement_create(session_id=session.pk, user=request.user, **serializer.validated_data)
            return status.HTTP_201_CREATED, CashMovementSerializer(cash_movement_get(movement_id=movement.pk)).data

        return idempotent_response(request, move)

    @extend_schema(
        request=SessionCountSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            200: SessionSerializer,
            202: SessionSerializer,
            **error_responses(
                ErrorCode.VALIDATION_ERROR,
                ErrorCode.SESSION_CLOSED,
                ErrorCode.SESSION_PENDING_APPROVAL,
                ErrorCode.OVERRIDE_INVALID,
                ErrorCode.IDEMPOTENCY_CONFLICT,
                ErrorCode.IDEMPOTENCY_IN_PROGRESS,
            ),
        },
        description="Close with a blind count. expected = the ledger's counts now; variance = counted − expected "
        "per value, and counted value − expected cash in `variance_total`. The counts become the counted ones "
        "through `close_count` movements, and the Z report is frozen (200). A variance past "
        "`CASH_VARIANCE_LIMIT` by a user without `approve_variance` (and without an `override_token` for "
        "`close_variance`) answers 202 with the session `pending_approval`: the count is kept, nothing is "
        "posted, and the till takes no bill until a manager approves it or sends it back. A user without "
        "`approve_variance` sees no expected counts or variance in the answer. " + SESSION_COUNT_DOC,
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None, format=None):
        session = self.get_object()
        serializer = SessionCountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def close_session():
            closed = session_close(session_id=session.pk, user=request.user, **serializer.validated_data)
            code = status.HTTP_202_ACCEPTED if closed.is_pending else status.HTTP_200_OK
            return code, SessionSerializer(closed, context={"blind": is_blind(request)}).data

        return idempotent_response(request, close_session)

    @extend_schema(
        request=SessionDecisionSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            200: SessionSerializer,
            **error_responses(
                ErrorCode.VALIDATION_ERROR,
                ErrorCode.SESSION_OPEN,
                ErrorCode.SESSION_CLOSED,
                ErrorCode.IDEMPOTENCY_CONFLICT,
                ErrorCode.IDEMPOTENCY_IN_PROGRESS,
            ),
        },
        description="Approve a count waiting in `pending_approval` (`approve_variance`): the session closes with "
        "the cashier's count, the variance is posted as `close_count` movements, and the Z report names who "
        "counted, who approved and the `reason`. 409 `session_open` or `session_closed` when it is not pending.",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None, format=None):
        session = self.get_object()
        serializer = SessionDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def approve():
            approved = session_approve(session_id=session.pk, user=request.user, **serializer.validated_data)
            return status.HTTP_200_OK, SessionSerializer(approved).data

        return idempotent_response(request, approve)

    @extend_schema(
        request=SessionDecisionSerializer,
        responses={
            200: SessionSerializer,
            **error_responses(ErrorCode.VALIDATION_ERROR, ErrorCode.SESSION_OPEN, ErrorCode.SESSION_CLOSED),
        },
        description="Send a count waiting in `pending_approval` back for a recount (`approve_variance`): the "
        "session is `open` again, and the rejected count is kept in `rejected_counts` with the `reason`. 409 "
        "`session_open` or `session_closed` when it is not pending.",
    )
    @action(detail=True, methods=["post"])
    def recount(self, request, pk=None, format=None):
        session = self.get_object()
        serializer = SessionDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reopened = session_recount(session_id=session.pk, user=request.user, **serializer.validated_data)
        return Response(SessionSerializer(reopened).data)

    @extend_schema(
        responses=SessionReportSerializer,
        description="The X report while the session is open (live), the Z report frozen at its close.",
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None, format=None):
        session = self.get_object()
        return Response(blind_report(session_report(session_id=session.pk), request))


# --- Manager overrides ----------------------------------------------------------------------------


@extend_schema(
    tags=["auth"],
    request=PinSetSerializer,
    responses={204: None, **error_responses(ErrorCode.VALIDATION_ERROR, ErrorCode.PERMISSION_DENIED)},
    description="Set your own manager override PIN (4 to 8 digits, stored hashed); your password confirms it. "
    "Needs `cashdrawer.approve_override` (managers), otherwise 403 `permission_denied`. A new PIN clears a "
    "lockout. A wrong password is a `validation_error` on `password`.",
)
class PinView(APIView):
    """Set your own manager override PIN."""

    permission_classes = [IsAuthenticated]
    store_rule = CHAIN_WIDE  # the user's own PIN

    def post(self, request):
        if not can_approve_override(request.user):
            raise PermissionDenied("Only a manager who may approve overrides has a PIN.")
        serializer = PinSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not request.user.check_password(serializer.validated_data["password"]):
            raise ValidationFailed("Wrong password.", details={"password": ["Wrong password."]})
        manager_pin_set(user=request.user, pin=serializer.validated_data["pin"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        description="Every override asked for, granted or refused, newest first: who, which action, which till, "
        "when, the outcome and what it was used on. Managers (`view_override`)."
    ),
    create=extend_schema(
        request=OverrideCreateSerializer,
        responses={
            201: OverrideGrantSerializer,
            **error_responses(ErrorCode.VALIDATION_ERROR, ErrorCode.OVERRIDE_REFUSED, ErrorCode.OVERRIDE_LOCKED),
        },
        description="A manager approves one action at the till with their username and PIN: a single-use "
        "token good for 120 seconds, for that action alone, sent as the action's `override_token`. A wrong PIN, "
        "or a user without `approve_override`, is 403 `override_refused`; after 5 failures in a row the "
        "manager's PIN is locked for 15 minutes: 429 `override_locked`, even with the right PIN. Any "
        "authenticated user (the cashier) may ask.",
    ),
)
@extend_schema(tags=["overrides"])
class OverrideViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Manager overrides at the counter: the audit list, and a new one from a manager's PIN."""

    serializer_class = OverrideSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {("create", "POST"): ()}

    store_rule = "cashdrawer.override"

    def get_queryset(self):
        return scope(override_list(), self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = OverrideCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("till") is not None and not till_visible(request.user, data["till"]):
            raise TillNotFound(details={"till": data["till"]})
        granted = override_grant(
            username=data["username"],
            pin=data["pin"],
            action=data["action"],
            till_id=data.get("till"),
            user=request.user,
        )
        override = granted.override
        assert override.manager is not None and override.expires_at is not None
        body = {
            "token": granted.token,
            "action": override.action,
            "approved_by": override.manager.pk,
            "approved_by_username": override.manager.get_username(),
            "expires_at": override.expires_at,
        }
        return Response(OverrideGrantSerializer(body).data, status=status.HTTP_201_CREATED)
