"""The cashier's till pages: pick a till (remembered in this browser), open it with a counted float,
cash in and out, close it with a blind count, and the printable X/Z report.

Thin: the forms read the counts, the services do the work, the report comes from ``session_report``."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from billing_project.core.errors import DomainError, ErrorCode
from billing_project.core.idempotency import page_once, page_submission_key
from billing_project.core.money import format_money
from billing_project.core.roles import role_required
from catalog.stores import can_see, scope, store_rule

from .browser import TILL_COOKIE, TILL_COOKIE_AGE, current_till, till_status, user_tills
from .errors import NotPermitted
from .models import MAX_COUNT, TillSession
from .selectors import drawer_list
from .services import (
    can_approve_variance,
    cash_movement_create,
    override_grant,
    session_approve,
    session_close,
    session_open,
    session_recount,
    session_report,
)

OPEN = "cashdrawer.add_tillsession"
CLOSE = "cashdrawer.change_tillsession"
CASH = "cashdrawer.add_cashmovement"
SEE = "cashdrawer.view_tillsession"
APPROVE = "cashdrawer.approve_variance"


def _token(request) -> str | None:
    """The manager's override token the page's dialog put in the form, if any."""
    return (request.POST.get("override_token") or "").strip()[:100] or None


@store_rule("cashdrawer.till")
@role_required(SEE)
@require_http_methods(["POST"])
def till_override(request):
    """The override dialog's request: a manager's username and PIN for one action, at this browser's
    till. Answers JSON: ``{token, approved_by, expires_at}`` (201) or the error body."""
    try:
        granted = override_grant(
            username=request.POST.get("username", "")[:150],
            pin=request.POST.get("pin", ""),
            action=request.POST.get("action", ""),
            till_id=current_till(request).pk,
            user=request.user,
        )
    except DomainError as exc:
        response = JsonResponse(exc.as_dict(), status=exc.status_code)
        if exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    override = granted.override
    assert override.manager is not None and override.expires_at is not None
    return JsonResponse(
        {
            "token": granted.token,
            "action": override.action,
            "approved_by": override.manager.get_username(),
            "expires_at": override.expires_at.isoformat(),
        },
        status=201,
    )


@store_rule("cashdrawer.till")
@role_required(SEE)
@require_http_methods(["GET", "POST"])
def till_pick(request):
    tills = list(user_tills(request.user).filter(is_active=True).order_by("code"))
    if request.method == "POST":
        chosen = next((t for t in tills if str(t.pk) == request.POST.get("till")), None)
        if chosen is None:
            return render(request, "tills/pick.html", {"tills": tills, "error": "Pick one of the tills."}, status=400)
        response = redirect(request.POST.get("next") or "billing:new")
        response.set_cookie(TILL_COOKIE, str(chosen.pk), max_age=TILL_COOKIE_AGE, samesite="Lax", httponly=True)
        messages.success(request, f"This browser now rings up at till {chosen.code}.")
        return response
    return render(request, "tills/pick.html", {"tills": tills, "current": current_till(request)})


def _counts_from(request, denominations, *, prefix: str, min_count: int = 0) -> tuple[list[dict], list[str]]:
    pieces, errors = [], []
    for d in denominations:
        raw = (request.POST.get(f"{prefix}{d.value}") or "").strip()
        if not raw:
            continue
        if not raw.isdigit() or not min_count <= int(raw) <= MAX_COUNT:
            errors.append(f"{d.value}: enter a whole number from {min_count}.")
            continue
        if int(raw):
            pieces.append({"value": d.value, "count": int(raw)})
    return pieces, errors


def _rows(request, till, *, suggest: bool = False) -> list[tuple]:
    """Each denomination with the count posted for it, so a refused form keeps what was typed. With
    ``suggest``, a fresh form holds the ledger's counts instead: what the till's last close counted
    (and any change since), the float the cashier checks and corrects."""
    denominations = drawer_list(till_id=till.pk)
    if request.method == "POST":
        return [(d, request.POST.get(f"count_{d.value}", "")) for d in denominations]
    return [(d, d.count if suggest and d.count else "") for d in denominations]


def _count_page(request, *, mode: str, till, session, status: int = 200, error: str = "", override_action: str = ""):
    # The open is not blind: the float is suggested. The close is: nothing expected is shown.
    rows = _rows(request, till, suggest=mode == "open")
    suggested = sum((d.value * d.count for d, _ in rows), Decimal("0")) if mode == "open" else None
    # A refused count (a bad number, or a variance that needs a manager) comes back with the
    # counts and the note as typed, so the cashier recounts instead of typing it all again.
    note = request.POST.get("note", "")[:500] if request.method == "POST" else ""
    context = {
        "mode": mode,
        "till": till,
        "session": session,
        "rows": rows,
        "note": note,
        "error": error,
        "suggested_float": format_money(suggested) if suggested else "",
        "override_action": override_action,
        "override_form": "count-form",
        "override_submitter": "#count-submit",
    }
    return render(request, "tills/count.html", context, status=status)


def _needs(exc: DomainError, *codes: ErrorCode) -> bool:
    return exc.code in codes or exc.code == ErrorCode.OVERRIDE_INVALID


@store_rule("cashdrawer.till")
@role_required(OPEN)
@require_http_methods(["GET", "POST"])
def till_open(request):
    """Count the float into the drawer, with a live total."""
    till = current_till(request)
    current = till_status(till)["session"]
    if current is not None:
        messages.info(request, f"Till {till.code} is already open (session #{current.pk}).")
        return redirect("billing:new")
    if request.method == "GET":
        return _count_page(request, mode="open", till=till, session=None)
    counted, errors = _counts_from(request, list(drawer_list(till_id=till.pk)), prefix="count_")
    if errors:
        return _count_page(request, mode="open", till=till, session=None, status=400, error=" ".join(errors))
    try:
        session = session_open(
            till_id=till.pk,
            counted=counted,
            note=request.POST.get("note", "")[:500],
            user=request.user,
            override_token=_token(request),
        )
    except DomainError as exc:
        action = "open_variance" if _needs(exc, ErrorCode.VARIANCE_NEEDS_MANAGER) else ""
        return _count_page(
            request,
            mode="open",
            till=till,
            session=None,
            status=exc.status_code,
            error=exc.message,
            override_action=action,
        )
    messages.success(request, f"Till {till.code} opened (session #{session.pk}). {_float_check(session)}")
    return redirect("billing:new")


def _float_check(session: TillSession) -> str:
    """The opening count against what the drawer's records say it holds, in shop words."""
    variance = session.opening_variance
    if variance < 0:
        return f"The float counted is short by {format_money(-variance)} against what the drawer should hold."
    if variance > 0:
        return f"The float counted is over by {format_money(variance)} against what the drawer should hold."
    return "The float counted matches what the drawer should hold."


def _open_session_or_404(till) -> TillSession:
    session = till_status(till)["session"]
    if session is None:
        raise Http404("This till has no open session.")
    return session


@store_rule("cashdrawer.till")
@role_required(CLOSE)
@require_http_methods(["GET", "POST"])
def till_close(request):
    """A blind count: what is expected is never shown before the count is in."""
    till = current_till(request)
    status = till_status(till)
    session = status["session"]
    if status["pending"] is not None:
        return redirect(reverse("tills:report", args=[status["pending"].pk]))
    if session is None:
        messages.info(request, f"Till {till.code} has no open session.")
        return redirect("billing:new")
    if request.method == "GET":
        return _count_page(request, mode="close", till=till, session=session)
    counted, errors = _counts_from(request, list(drawer_list(till_id=till.pk)), prefix="count_")
    if errors:
        return _count_page(request, mode="close", till=till, session=session, status=400, error=" ".join(errors))
    try:
        closed = session_close(
            session_id=session.pk, counted=counted, note=request.POST.get("note", "")[:500], user=request.user
        )
    except DomainError as exc:
        return _count_page(request, mode="close", till=till, session=session, status=exc.status_code, error=exc.message)
    if closed.is_pending:
        messages.info(request, "Count recorded. A manager approves it before the till can be used again.")
    return redirect(reverse("tills:report", args=[closed.pk]))


@store_rule("cashdrawer.tillsession")
@role_required(CLOSE)
@require_http_methods(["POST"])
def session_decide(request, session_id: int, decision: str):
    """A manager's decision on a count waiting for approval: approve it (at the till with their PIN,
    through the override dialog, or logged in themselves), or send it back for a recount."""
    reason = request.POST.get("reason", "")[:500]
    if not can_see(request.user, TillSession, session_id):
        raise Http404("No such session.")
    try:
        if decision == "approve":
            session_approve(session_id=session_id, reason=reason, user=request.user, override_token=_token(request))
            messages.success(request, "Count approved: the till is closed.")
        else:
            session_recount(session_id=session_id, reason=reason, user=request.user)
            messages.info(request, "Count sent back: count the drawer again.")
    except TillSession.DoesNotExist:
        raise Http404("No such session.") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("tills:report", args=[session_id]))


@store_rule("cashdrawer.till")
@role_required(CLOSE)
@require_http_methods(["GET", "POST"])
def till_cash(request):
    """Cash in or out of the open session: pieces and a reason. A cashier without the cash
    movement permission is asked for a manager's approval (the override dialog)."""
    till = current_till(request)
    session = till_status(till)["session"]
    if session is None:
        messages.info(request, f"Till {till.code} has no open session: open it first.")
        return redirect("billing:new")
    denominations = list(drawer_list(till_id=till.pk))
    context = {
        "till": till,
        "session": session,
        "rows": _rows(request, till),
        "posted": request.POST,
        "error": "",
        # One key per rendering: a second submit of the same page records the movement once.
        "submission": page_submission_key(),
        "override_action": "",
        "override_form": "cash-form",
        "override_submitter": "#cash-submit",
    }
    if request.method == "GET":
        return render(request, "tills/cash.html", context)
    pieces, errors = _counts_from(request, denominations, prefix="count_")
    if errors:
        context["error"] = " ".join(errors)
        return render(request, "tills/cash.html", context, status=400)
    body = {
        "session": session.pk,
        "direction": request.POST.get("direction", ""),
        "pieces": pieces,
        "reason": request.POST.get("reason", "")[:255],
    }

    token = _token(request)

    def record() -> tuple[int, dict]:
        if token is None and not request.user.has_perm(CASH):
            raise NotPermitted("Cash in or out needs a manager's approval.")
        movement = cash_movement_create(
            session_id=session.pk,
            direction=body["direction"],
            pieces=pieces,
            reason=body["reason"],
            user=request.user,
            override_token=token,
        )
        return 201, {
            "message": f"Cash {movement.direction} {format_money(movement.amount)} recorded: {movement.reason}."
        }

    try:
        status, answer = page_once(
            request, key=request.POST.get("submission", "")[:64], scope="cash movement", body=body, call=record
        )
    except DomainError as exc:
        status, answer = exc.status_code, exc.as_dict()
    if status != 201:
        context["error"] = answer["message"]
        if answer["code"] in (ErrorCode.PERMISSION_DENIED, ErrorCode.OVERRIDE_INVALID):
            context["override_action"] = "cash_movement"
        return render(request, "tills/cash.html", context, status=status)
    messages.success(request, answer["message"])
    return redirect("billing:new")


@store_rule("cashdrawer.tillsession")
@role_required(SEE)
@require_http_methods(["GET"])
def session_report_page(request, session_id: int):
    """The over/short and the printable report (Z once closed, X while open), receipt width in print."""
    sessions = scope(TillSession.objects.select_related("till", "opened_by", "closed_by"), request.user)
    session = sessions.filter(pk=session_id).first()
    if session is None:
        raise Http404("No such session.")
    report = session_report(session_id=session.pk)
    blind = not can_approve_variance(request.user)
    if blind:  # the close is blind: no expected cash, no count's value, no over/short
        report = {**report, "cash": {**report["cash"], "expected": None, "counted": None, "variance": None}}
    variance = None
    if report["cash"]["variance"] is not None:
        try:
            variance = Decimal(report["cash"]["variance"])
        except InvalidOperation:  # pragma: no cover - always a plain decimal string
            variance = None
    context = {
        "session": session,
        "report": report,
        "variance": variance,
        "shortfall": variance and -variance,
        "blind": blind,
        "pending_variance": None if blind or not session.is_pending else session.variance_total,
    }
    return render(request, "tills/report.html", context)
