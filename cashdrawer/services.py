"""The cash drawers of the tills, and their sessions. Every change to a count goes through here and
lands in the movement ledger; the locks are taken through ``lock_objects``, in its global order."""

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Subquery
from django.utils import timezone

from billing_project.core import metrics
from billing_project.core.db import (
    InsertedIds,
    Writes,
    atomic_write,
    compiled_rows,
    guarded_add,
    new_row,
)
from billing_project.core.errors import ValidationFailed
from billing_project.core.money import format_money
from billing_project.core.types import Actor, Pieces, recorded_user

from .change import SearchBudgetExceeded, make_change
from .errors import (
    ChangeTooComplex,
    ChangeUnavailable,
    DefaultTillRename,
    DenominationExists,
    InsufficientCash,
    SeriesTaken,
    SessionClosed,
    SessionOpen,
    TenderMismatch,
    TillExists,
    TillInactive,
    TillNotFound,
    TooManyDenominations,
    VarianceNeedsManager,
)
from .lock_objects import denomination_for_update, denominations_for_update, series_lock, till_for_update
from .models import (
    DEFAULT_FORM_PATTERN,
    MAX_COUNT,
    MAX_DENOMINATIONS,
    MAX_VALUE,
    SERIES_PATTERN,
    CashMovement,
    Denomination,
    DrawerMovement,
    Till,
    TillSession,
)

if TYPE_CHECKING:
    from purchases.models import Purchase, Refund

logger = logging.getLogger("billing.drawer")

Kind = DrawerMovement.Kind
ZERO = Decimal("0.00")


def _check_count(count: int) -> None:
    if not 0 <= count <= MAX_COUNT:
        raise ValidationFailed(
            f"A count must be between 0 and {MAX_COUNT}.", details={"available_count": ["Out of range."]}
        )


# --- Tills --------------------------------------------------------------------------------------


def till_default() -> Till:
    """The till named by ``DEFAULT_TILL``, created when missing (the migrations create ``MAIN``),
    with a warning: a new or mistyped setting then sends bills to an empty till."""
    till = Till.objects.filter(code=settings.DEFAULT_TILL).first()
    if till is not None:
        return till
    try:
        with transaction.atomic():
            till = Till.objects.create(code=settings.DEFAULT_TILL, name="Main till")
    except IntegrityError:
        return Till.objects.get(code=settings.DEFAULT_TILL)
    logger.warning(
        "DEFAULT_TILL %s did not exist: created it as a new till with an empty drawer", settings.DEFAULT_TILL
    )
    return till


def _till_id(till: "Till | int | None") -> int:
    if till is None:
        return till_default().pk
    return till.pk if isinstance(till, Till) else int(till)


def _lock_till(till_id: int) -> Till:
    """Lock the till row (the till's mutex, step 3 of the lock order). ``Till.DoesNotExist`` if unknown."""
    return till_for_update(till_id=till_id).get()


def _open_sessions(till_id: int):
    return TillSession.objects.filter(till_id=till_id, status=TillSession.Status.OPEN)


def _open_session_id(till_id: int) -> int | None:
    return _open_sessions(till_id).values_list("pk", flat=True).first()


SERIES_FIELDS = ("invoice_series", "credit_series")


def _clean_series(changes: dict, *, till_pk: int | None) -> None:
    """Normalise and check the ``invoice_series`` / ``credit_series`` in ``changes`` (in place).
    Run under ``series_lock``: a series is unique across both columns of every till.
    Raises ``ValidationFailed`` for a malformed one or one with the form of a default, and
    ``SeriesTaken`` for one another till (or this till's other series) uses."""
    errors = {}
    for field in SERIES_FIELDS:
        if field not in changes:
            continue
        value = (changes[field] or "").strip().upper() or None
        changes[field] = value
        if value is None:
            continue
        if not re.fullmatch(SERIES_PATTERN, value):
            errors[field] = ["1 to 4 letters, digits or hyphens."]
        elif re.fullmatch(DEFAULT_FORM_PATTERN, value):
            errors[field] = ["Digits alone, or C and digits, are the default series of a till; choose another."]
    if errors:
        raise ValidationFailed("That series cannot be used.", details=errors)
    wanted = {field: changes[field] for field in SERIES_FIELDS if changes.get(field)}
    if len(set(wanted.values())) < len(wanted):
        raise SeriesTaken("A till's invoice and credit series must differ.", details=wanted)
    for field, value in wanted.items():
        others = Till.objects.filter(Q(invoice_series=value) | Q(credit_series=value))
        if till_pk is not None:
            # The till's own pair was checked above; it may keep the values it has.
            others = others.exclude(pk=till_pk)
        if others.exists():
            raise SeriesTaken(f"The series {value} is already in use.", details={field: value})


@atomic_write()
def till_create(
    *,
    code: str,
    name: str = "",
    is_active: bool = True,
    requires_open_session: bool = False,
    invoice_series: str | None = None,
    credit_series: str | None = None,
) -> Till:
    """Add a till, with an empty drawer. Blank series mean the defaults (the id, C and the id).

    Takes ``series_lock`` when a series is given. Raises ``TillExists`` for a code already taken,
    ``ValidationFailed`` or ``SeriesTaken`` for a series that cannot be used."""
    code = (code or "").strip()
    if not code:
        raise ValidationFailed("A till needs a code.", details={"code": ["This field may not be blank."]})
    series = {"invoice_series": invoice_series, "credit_series": credit_series}
    if invoice_series or credit_series:
        series_lock()
        _clean_series(series, till_pk=None)
    else:
        series = {"invoice_series": None, "credit_series": None}
    try:
        with transaction.atomic():
            return Till.objects.create(
                code=code, name=name, is_active=is_active, requires_open_session=requires_open_session, **series
            )
    except IntegrityError:
        raise TillExists(f"A till with code {code} already exists.", details={"code": code}) from None


_TILL_FIELDS = ("code", "name", "is_active", "requires_open_session", *SERIES_FIELDS)


@atomic_write()
def till_update(*, till_id: int, **changes) -> Till:
    """Change a till's ``code``, ``name``, ``is_active``, ``requires_open_session``,
    ``invoice_series`` or ``credit_series`` (blank: back to the default). A new series applies to
    the next bill; numbers already given keep theirs. The default till's code never changes:
    ``DEFAULT_TILL`` names it by code, so a rename would quietly send the bills that name no till
    to whichever till takes the code next (or a new, empty one).

    Takes ``series_lock`` first when a series changes, then locks the till row. Raises
    ``Till.DoesNotExist``, ``TillExists`` for a code already taken, ``DefaultTillRename``,
    ``ValidationFailed`` or ``SeriesTaken`` for a series that cannot be used."""
    unknown = set(changes) - set(_TILL_FIELDS)
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    if any(field in changes for field in SERIES_FIELDS):
        series_lock()
    till = _lock_till(till_id)
    if any(field in changes for field in SERIES_FIELDS):
        for field in SERIES_FIELDS:
            changes.setdefault(field, getattr(till, field))
        _clean_series(changes, till_pk=till.pk)
    if "code" in changes:
        changes["code"] = (changes["code"] or "").strip()
        if not changes["code"]:
            raise ValidationFailed("A till needs a code.", details={"code": ["This field may not be blank."]})
        if changes["code"] != till.code and till.code == settings.DEFAULT_TILL:
            raise DefaultTillRename(
                f"Till {till.code} is the default till (DEFAULT_TILL): bills and /denominations that name no "
                "till use it by its code, so the code cannot change. To make another till the default, set "
                "DEFAULT_TILL to its code.",
                details={"code": till.code, "default_till": settings.DEFAULT_TILL},
            )
    for field, value in changes.items():
        setattr(till, field, value)
    try:
        with transaction.atomic():
            till.save(update_fields=list(changes) or None)
    except IntegrityError:
        if "code" not in changes:
            raise SeriesTaken("That series is already in use.", details={}) from None
        raise TillExists(
            f"A till with code {changes['code']} already exists.", details={"code": changes["code"]}
        ) from None
    return till


# --- One till's drawer ------------------------------------------------------------------------------


def _check_value(value: Decimal) -> None:
    if value <= 0:
        raise ValidationFailed("A denomination must be positive.", details={"value": ["Must be greater than 0."]})
    if value > MAX_VALUE:
        raise ValidationFailed(
            f"A denomination is worth at most {MAX_VALUE}.", details={"value": [f"Must be at most {MAX_VALUE}."]}
        )


def _check_room(till_id: int) -> None:
    """Refuse a new value once the till's drawer holds ``MAX_DENOMINATIONS``. Hold the till's lock:
    two managers adding values at once queue on it, and the count is a fresh statement after it."""
    held = Denomination.objects.filter(till_id=till_id).count()
    if held >= MAX_DENOMINATIONS:
        raise TooManyDenominations(
            f"The drawer already holds {held} denomination values, the most it may ({MAX_DENOMINATIONS}).",
            details={"held": held, "max": MAX_DENOMINATIONS},
        )


@atomic_write()
def denomination_create(
    *, value: Decimal, count: int = 0, user: Actor = None, reason: str = "", till: "Till | int | None" = None
) -> Denomination:
    """Add a note or coin value to a till's drawer (default: ``DEFAULT_TILL``). A starting count is
    recorded as a manual movement. Locks the till row, then counts the drawer's values: raises
    ``TooManyDenominations`` at ``MAX_DENOMINATIONS``, ``ValidationFailed`` for a value or count over
    its cap, and ``DenominationExists`` for a value already there."""
    _check_value(value)
    _check_count(count)
    till_id = _till_id(till)
    _lock_till(till_id)
    if Denomination.objects.filter(till_id=till_id, value=value).exists():
        raise DenominationExists(details={"value": str(value)})
    _check_room(till_id)
    try:
        with transaction.atomic():
            denomination = Denomination.objects.create(till_id=till_id, value=value, count=0)
    except IntegrityError:
        raise DenominationExists(details={"value": str(value)}) from None
    if count:
        _set(denomination, count, user=user, reason=reason or "denomination added")
    return denomination


@atomic_write()
def drawer_set_count(
    *, value: Decimal, count: int, user: Actor = None, reason: str = "", till: "Till | int | None" = None
) -> Denomination:
    """Set one denomination's count, e.g. when a manager counts the float.

    Locks the till row, then that denomination's row. Raises ``Denomination.DoesNotExist`` for an
    unknown value."""
    _check_count(count)
    till_id = _till_id(till)
    _lock_till(till_id)
    denomination = denomination_for_update(till_id=till_id, value=value).get()
    if count != denomination.count:
        _set(denomination, count, user=user, reason=reason or "count set")
    return denomination


def _set(denomination: Denomination, count: int, *, user: Actor, reason: str) -> None:
    """A manual set, recorded in the till's open session when there is one. Hold the till's lock."""
    user = recorded_user(user)
    delta = count - denomination.count
    Denomination.objects.filter(pk=denomination.pk).update(count=count)
    DrawerMovement.objects.create(
        till_id=denomination.till_id,
        session_id=_open_session_id(denomination.till_id),
        denomination=denomination,
        kind=Kind.MANUAL_SET,
        delta=delta,
        count_after=count,
        user=user,
        reason=reason,
    )
    logger.info("drawer %s set %s -> %s by %s: %s", denomination.value, denomination.count, count, user, reason)
    denomination.count = count


def drawer_check_tender(
    *, denominations: Iterable[Denomination], tendered: Iterable[Pieces], paid_amount: Decimal
) -> dict[Decimal, int]:
    """Combine the tendered notes by value and check them against the drawer and the amount paid."""
    known = {d.value for d in denominations}
    pieces: dict[Decimal, int] = {}
    for note in tendered:
        value, count = Decimal(note["value"]), int(note["count"])
        if value not in known:
            raise TenderMismatch(f"{value} is not a denomination of this drawer.", details={"value": str(value)})
        if count <= 0:
            raise ValidationFailed("A tendered count must be positive.", details={"tendered": ["Count must be > 0."]})
        pieces[value] = pieces.get(value, 0) + count
    counts = {d.value: d.count for d in denominations}
    if any(counts[value] + count > MAX_COUNT for value, count in pieces.items()):
        raise ValidationFailed(
            "The drawer cannot hold that many notes of one value.", details={"tendered": ["Count too large."]}
        )
    tendered_total = sum((v * c for v, c in pieces.items()), Decimal("0.00"))
    if tendered_total != paid_amount:
        raise TenderMismatch(
            f"The tendered notes add up to {format_money(tendered_total)}, not the {format_money(paid_amount)} paid.",
            details={"tendered_total": f"{tendered_total:.2f}", "paid_amount": f"{paid_amount:.2f}"},
        )
    return pieces


def drawer_plan_change(
    *, denominations: Iterable[Denomination], tendered: Mapping[Decimal, int], change_due: Decimal
) -> dict[Decimal, int]:
    """The fewest notes and coins that make ``change_due`` from what the drawer holds once the
    tendered notes are in it. Pass rows locked with ``denominations_for_update``."""
    available = {d.value: d.count + tendered.get(d.value, 0) for d in denominations}
    try:
        change = make_change(change_due, available)
    except SearchBudgetExceeded:
        logger.warning("change of %s refused: the search ran out of its budget (%d values)", change_due, len(available))
        raise ChangeTooComplex(details={"change_due": f"{change_due:.2f}", "denominations": len(available)}) from None
    if change is None:
        raise ChangeUnavailable(
            f"The drawer cannot make exact change of {format_money(change_due)}.",
            details={"change_due": f"{change_due:.2f}"},
        )
    return change


class DrawerRecord:
    """A bill's drawer writes, sent with the caller's statement (``drawer_record_bill``): put ``sql``
    in its ``RETURNING`` list and hand what it returns to ``movements()``."""

    def __init__(self, ids: InsertedIds | None) -> None:
        self._ids = ids
        self.sql = ids.sql if ids is not None else ""

    def movements(self, value: Any = None) -> list[DrawerMovement]:
        """The ledger rows recorded; ``ChangeUnavailable`` when a count would have gone negative
        (nothing was recorded then, and the bill's transaction must roll back)."""
        if self._ids is None:
            return []
        recorded = self._ids.inserted(value)
        if recorded is None:
            raise ChangeUnavailable("The drawer changed while the bill was being rung up.")
        return recorded


def drawer_record_bill(
    *,
    writes: Writes,
    denominations: Iterable[Denomination],
    purchase: "Purchase",
    tendered: Mapping[Decimal, int],
    change: Mapping[Decimal, int],
    user: Actor = None,
    session_id: int | None = None,
) -> DrawerRecord:
    """Apply a bill to the drawer, whatever the number of notes: one guarded UPDATE of the counts
    and the INSERT of the movements, the movements only when every count was updated
    (``Writes.guarded_add_then_insert``). They are added to ``writes``, to go out as CTEs of the
    caller's statement on PostgreSQL (the bill's last: its invoice number); elsewhere they run now.

    The rows must be locked (``denominations_for_update``). The ``count + delta >= 0`` guard and
    the CHECK constraint back the lock up: a count can never go negative."""
    by_value = {d.value: d for d in denominations}
    movements = []
    delta_by_pk: dict[int, int] = {}
    for kind, pieces, sign in ((Kind.TENDER_IN, tendered, 1), (Kind.CHANGE_OUT, change, -1)):
        for value, count in pieces.items():
            denomination = by_value[value]
            delta_by_pk[denomination.pk] = delta_by_pk.get(denomination.pk, 0) + sign * count
            denomination.count += sign * count
            movements.append(
                new_row(
                    DrawerMovement,
                    till_id=denomination.till_id,
                    session_id=session_id,
                    denomination=denomination,
                    kind=kind,
                    delta=sign * count,
                    count_after=denomination.count,
                    purchase=purchase,
                    user=recorded_user(user),
                    reason=f"bill #{purchase.pk}",
                    created_at=purchase.created_at,
                )
            )
    if not movements:
        return DrawerRecord(None)
    # Nothing to count (change given back in the notes tendered): the movements alone.
    deltas = {pk: delta for pk, delta in delta_by_pk.items() if delta}
    return DrawerRecord(writes.guarded_add_then_insert("drawer", Denomination, "count", deltas, movements))


def drawer_record_refund(
    *,
    denominations: Iterable[Denomination],
    refund: "Refund",
    pieces: Mapping[Decimal, int],
    user: Actor = None,
    session_id: int,
) -> list[DrawerMovement]:
    """Pay a refund's cash out of the drawer: one ``refund_out`` movement per value, in one UPDATE
    and one INSERT. Plan ``pieces`` with ``drawer_plan_change`` on rows locked with
    ``denominations_for_update``; the ``count + delta >= 0`` guard backs the lock up."""
    by_value = {d.value: d for d in denominations}
    movements, deltas = [], {}
    for value, count in sorted(pieces.items(), reverse=True):
        if not count:
            continue
        denomination = by_value[value]
        deltas[denomination.pk] = -count
        denomination.count -= count
        movements.append(
            DrawerMovement(
                till_id=denomination.till_id,
                session_id=session_id,
                denomination=denomination,
                kind=Kind.REFUND_OUT,
                delta=-count,
                count_after=denomination.count,
                refund=refund,
                user=recorded_user(user),
                reason=f"refund #{refund.pk} of bill #{refund.purchase_id}",
                created_at=refund.created_at,
            )
        )
    if deltas and guarded_add(Denomination, "count", deltas) != len(deltas):
        raise ChangeUnavailable("The drawer changed while the refund was being paid out.")
    return DrawerMovement.objects.bulk_create(movements)


@atomic_write()
def drawer_set_counts(
    *,
    counts: Mapping[Decimal, int],
    user: Actor = None,
    reason: str = "",
    create_missing: bool = False,
    till: "Till | int | None" = None,
) -> dict[str, list[Decimal]]:
    """Set several denominations' counts at once (a counted float), all or nothing.

    Each set is a manual movement with ``user`` and ``reason``, as with ``drawer_set_count``.
    Unknown values are added with ``denomination_create`` when ``create_missing``, otherwise
    ``Denomination.DoesNotExist`` is raised. Locks the till row, then the existing rows one by one
    in ascending value, the global drawer lock order (``lock_objects``).

    Returns ``{"created": [...], "changed": [...], "unchanged": [...]}`` lists of values."""
    result: dict[str, list[Decimal]] = {"created": [], "changed": [], "unchanged": []}
    for value in sorted(counts):
        _check_count(counts[value])
    till_id = _till_id(till)
    _lock_till(till_id)
    existing = set(Denomination.objects.filter(till_id=till_id, value__in=list(counts)).values_list("value", flat=True))
    for value in sorted(counts):
        count = counts[value]
        if value not in existing:
            if not create_missing:
                raise Denomination.DoesNotExist(f"{value} is not a denomination of this drawer.")
            denomination_create(value=value, count=count, user=user, reason=reason, till=till_id)
            result["created"].append(value)
            continue
        # read under the lock drawer_set_count takes
        before = denomination_for_update(till_id=till_id, value=value).get().count
        drawer_set_count(value=value, count=count, user=user, reason=reason, till=till_id)
        result["changed" if count != before else "unchanged"].append(value)
    return result


# --- Sessions -------------------------------------------------------------------------------------


def _money_str(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _pieces_list(counts: Mapping[Decimal, int], *, skip_zero: bool = False) -> list[dict]:
    """``{value: count}`` as the API's ``[{value, count}]``, highest value first (JSON-safe)."""
    return [
        {"value": _money_str(value), "count": count}
        for value, count in sorted(counts.items(), reverse=True)
        if count or not skip_zero
    ]


def _value_of(counts: Mapping[Decimal, int]) -> Decimal:
    return sum((value * count for value, count in counts.items()), ZERO)


def _counted(denominations: Sequence[Denomination], counted: Iterable[Mapping], *, field: str) -> dict[Decimal, int]:
    """A full count of the drawer: every known value, those left out at zero. An unknown or repeated
    value, or a count out of range, is a ``validation_error``."""
    known = {d.value for d in denominations}
    result = dict.fromkeys(known, 0)
    seen: set[Decimal] = set()
    for piece in counted:
        value, count = Decimal(piece["value"]), int(piece["count"])
        if value not in known:
            raise ValidationFailed(
                f"{value:.2f} is not a denomination of this till.", details={field: [f"Unknown value {value:.2f}."]}
            )
        if value in seen:
            raise ValidationFailed(
                f"{value:.2f} is counted twice.", details={field: [f"Value {value:.2f} is listed more than once."]}
            )
        if not 0 <= count <= MAX_COUNT:
            raise ValidationFailed(f"A count must be between 0 and {MAX_COUNT}.", details={field: ["Out of range."]})
        seen.add(value)
        result[value] = count
    return result


def _bring_counts_to(
    *,
    denominations: Sequence[Denomination],
    target: Mapping[Decimal, int],
    kind: str,
    session_id: int,
    user: Actor,
    reason: str,
) -> None:
    """Set the locked ``denominations`` to ``target`` with one movement of ``kind`` per changed value."""
    movements, deltas = [], {}
    now = timezone.now()
    for d in denominations:
        delta = target[d.value] - d.count
        if not delta:
            continue
        deltas[d.pk] = delta
        d.count += delta
        movements.append(
            DrawerMovement(
                till_id=d.till_id,
                session_id=session_id,
                denomination=d,
                kind=kind,
                delta=delta,
                count_after=d.count,
                user=recorded_user(user),
                reason=reason,
                created_at=now,
            )
        )
    if deltas and guarded_add(Denomination, "count", deltas) != len(deltas):
        raise ChangeUnavailable("The drawer changed while it was being counted.")  # cannot happen under the lock
    DrawerMovement.objects.bulk_create(movements)


@atomic_write()
def session_open(*, till_id: int, counted: Sequence[Mapping], note: str = "", user: Actor = None) -> TillSession:
    """Open a session at a till with the counted float.

    The counts become the drawer's counts: every difference from the ledger is an ``open_count``
    movement, and ``opening_variance`` is counted minus expected in money. A value left out counts
    as zero. An opening variance over ``CASH_VARIANCE_LIMIT`` needs ``cashdrawer.approve_variance``,
    as a close's does: otherwise a count could write the drawer off, or invent cash, unseen.

    Locks the till row, then its denominations by value; the variance is worked out from those
    locked counts, so a count set or a bill committed while the open waited is in it.

    Raises ``Till.DoesNotExist``, ``TillInactive``, ``SessionOpen``, ``VarianceNeedsManager``,
    ``ValidationFailed``; on any refusal nothing changes."""
    till = _lock_till(till_id)
    if not till.is_active:
        raise TillInactive(f"Till {till.code} is inactive.", details={"till": till.pk})
    current = _open_session_id(till.pk)
    if current is not None:
        raise SessionOpen(f"Till {till.code} already has session #{current} open.", details={"session": current})
    denominations = list(denominations_for_update(till_id=till.pk))
    counts = _counted(denominations, counted, field="counted")
    expected = {d.value: d.count for d in denominations}
    opening_variance = _value_of(counts) - _value_of(expected)
    _check_variance_allowed(opening_variance, user=user, who_else="a manager opens the till")
    user = recorded_user(user)
    session = TillSession.objects.create(
        till=till,
        opened_by=user,
        opening_counted=_pieces_list(counts),
        opening_variance=opening_variance,
        note=note or "",
    )
    _bring_counts_to(
        denominations=denominations,
        target=counts,
        kind=Kind.OPEN_COUNT,
        session_id=session.pk,
        user=user,
        reason=f"session #{session.pk} opened",
    )
    logger.info("till %s session #%s opened by %s, variance %s", till.code, session.pk, user, session.opening_variance)
    return session


def till_lock_for_bill(*, till_id: int | None, user: Actor = None) -> tuple[Till, int, list[Denomination]]:
    """For ``purchase_create``, inside its transaction: lock the bill's till (default
    ``DEFAULT_TILL``) and its denominations, and find its open session, opening one automatically at
    the current counts when there is none.

    Run after the bill's products are locked (steps 3 and 4 of the lock order). The session is read
    after the till lock, so a bill that waited for a close sees the session closed.

    Returns ``(till, session_id, denominations)``. Raises ``ValidationFailed`` for an unknown till,
    ``TillInactive``, or ``SessionClosed`` when the till requires an open session and has none."""
    # The locks are the lock_objects querysets, compiled once (``compiled_rows``): a bill pays for
    # running them, not for building them. Code and id are unique, so each finds one till or none.
    if till_id is None:
        till = next(iter(compiled_rows(_till_by_code, settings.DEFAULT_TILL)), None)
        if till is None:
            till = _lock_till(till_default().pk)
    else:
        till = next(iter(compiled_rows(_till_by_id, till_id)), None)
        if till is None:
            raise TillNotFound(f"Till {till_id} does not exist.", details={"till": till_id})
    if not till.is_active:
        raise TillInactive(f"Till {till.code} is inactive.", details={"till": till.pk})
    # The open session rides on the drawer's locking SELECT (one round trip fewer). That statement
    # starts after the till lock is held, so its snapshot sees any open or close committed before
    # (sessions are only written under the till lock), exactly as a separate query would.
    denominations = compiled_rows(_drawer_with_open_session, till.pk)
    # A till without denominations has no row to carry it; ask on its own then.
    session_id = denominations[0].open_session_id if denominations else _open_session_id(till.pk)
    if session_id is None:
        if till.requires_open_session:
            raise SessionClosed(
                f"Till {till.code} has no open session; open it with a counted float first.",
                details={"till": till.pk},
            )
        session_id = TillSession.objects.create(
            till=till,
            opened_by=recorded_user(user),
            opening_counted=_pieces_list({d.value: d.count for d in denominations}),
            auto_opened=True,
            note="opened by a bill",
        ).pk
        logger.info("till %s session #%s opened automatically", till.code, session_id)
    return till, session_id, denominations


def _till_by_code(code: str):
    return till_for_update(code=code)


def _till_by_id(till_id: int):
    return till_for_update(till_id=till_id)


def _drawer_with_open_session(till_id: int):
    """The till's denominations, locked by value (step 5), each carrying the till's open session."""
    return denominations_for_update(till_id=till_id).annotate(
        open_session_id=Subquery(_open_sessions(till_id).values("pk")[:1])
    )


def _session_for_update(session_id: int) -> tuple[TillSession, Till]:
    """Lock the session's till, then read the session under that lock. ``TillSession.DoesNotExist``."""
    till_id = TillSession.objects.values_list("till_id", flat=True).get(pk=session_id)
    till = _lock_till(till_id)
    session = TillSession.objects.select_related("till").get(pk=session_id)
    return session, till


@atomic_write()
def cash_movement_create(
    *, session_id: int, direction: str, pieces: Sequence[Mapping], reason: str, user: Actor = None
) -> CashMovement:
    """Pay cash into (``in``) or out of (``out``) a till during its open session: a float top-up,
    a payout, a safe drop. Pieces of the same value are combined.

    Locks the till row, then its denominations by value. Raises ``TillSession.DoesNotExist``,
    ``SessionClosed``, ``InsufficientCash`` (taking out more pieces than the drawer holds), or
    ``ValidationFailed``; on any refusal nothing changes."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the cash moves.", details={"reason": ["This field may not be blank."]})
    if direction not in CashMovement.Direction.values:
        raise ValidationFailed("Direction is in or out.", details={"direction": ["Must be in or out."]})
    session, till = _session_for_update(session_id)
    if not session.is_open:
        raise SessionClosed(f"Session #{session.pk} is closed.", details={"session": session.pk})
    denominations = list(denominations_for_update(till_id=till.pk))
    by_value = {d.value: d for d in denominations}
    combined: dict[Decimal, int] = {}
    for piece in pieces:
        value, count = Decimal(piece["value"]), int(piece["count"])
        if value not in by_value:
            raise ValidationFailed(
                f"{value:.2f} is not a denomination of this till.", details={"pieces": [f"Unknown value {value:.2f}."]}
            )
        if count <= 0:
            raise ValidationFailed("A count must be positive.", details={"pieces": ["Count must be > 0."]})
        combined[value] = combined.get(value, 0) + count
    if not combined:
        raise ValidationFailed("Give at least one piece.", details={"pieces": ["This list may not be empty."]})
    sign = 1 if direction == CashMovement.Direction.IN else -1
    for value, count in combined.items():
        available = by_value[value].count
        if sign < 0 and count > available:
            raise InsufficientCash(
                f"The drawer holds {available} × {value:.2f}; {count} requested.",
                details={"value": _money_str(value), "available": available, "requested": count},
            )
        if sign > 0 and available + count > MAX_COUNT:
            raise ValidationFailed("The drawer cannot hold that many.", details={"pieces": ["Count too large."]})
    user = recorded_user(user)
    movement = CashMovement.objects.create(
        till=till, session=session, direction=direction, amount=_value_of(combined), reason=reason, user=user
    )
    kind = Kind.CASH_IN if sign > 0 else Kind.CASH_OUT
    deltas = {by_value[value].pk: sign * count for value, count in combined.items()}
    if guarded_add(Denomination, "count", deltas) != len(deltas):
        raise InsufficientCash("The drawer changed while the cash was being moved.")
    rows = []
    for value, count in sorted(combined.items(), reverse=True):
        d = by_value[value]
        d.count += sign * count
        rows.append(
            DrawerMovement(
                till=till,
                session=session,
                cash_movement=movement,
                denomination=d,
                kind=kind,
                delta=sign * count,
                count_after=d.count,
                user=user,
                reason=reason,
                created_at=movement.created_at,
            )
        )
    DrawerMovement.objects.bulk_create(rows)
    logger.info("till %s cash %s %s (%s) by %s", till.code, direction, movement.amount, reason, user)
    return movement


def can_approve_variance(user) -> bool:
    return user is not None and user.has_perm("cashdrawer.approve_variance")


def _check_variance_allowed(variance: Decimal, *, user: Actor, who_else: str) -> None:
    """Refuse an over/short past ``CASH_VARIANCE_LIMIT`` unless ``user`` may approve it (opens and
    closes alike). ``who_else`` ends the cashier's message: who may do it instead."""
    limit = settings.CASH_VARIANCE_LIMIT
    if abs(variance) > limit and not can_approve_variance(user):
        raise VarianceNeedsManager(
            f"The drawer is {'over' if variance > 0 else 'short'} by {format_money(abs(variance))}, "
            f"more than the {format_money(limit)} allowed: recount, or {who_else}.",
            details={"limit": _money_str(limit), "variance": _money_str(variance)},
        )


@atomic_write()
def session_close(*, session_id: int, counted: Sequence[Mapping], note: str = "", user: Actor = None) -> TillSession:
    """Close a session with a blind count of the drawer, post the variance and freeze the Z report.

    expected = the till's counts in the ledger now; variance = counted − expected per value, and
    in money counted value − expected cash (which includes cash taken without its notes). The
    counts become the counted ones through ``close_count`` movements. A value left out counts as
    zero. A variance over ``CASH_VARIANCE_LIMIT`` needs ``cashdrawer.approve_variance``.

    Locks the till row, then its denominations by value: every bill committed before the close is
    in the expected counts, and no bill is recorded in the session afterwards.

    Raises ``TillSession.DoesNotExist``, ``SessionClosed``, ``VarianceNeedsManager``,
    ``ValidationFailed``; on any refusal nothing changes."""
    from .reports import session_figures

    session, till = _session_for_update(session_id)
    if not session.is_open:
        raise SessionClosed(f"Session #{session.pk} is already closed.", details={"session": session.pk})
    denominations = list(denominations_for_update(till_id=till.pk))
    counts = _counted(denominations, counted, field="counted")
    expected = {d.value: d.count for d in denominations}
    figures = session_figures(session)
    expected_cash = Decimal(figures["cash"]["expected"])
    counted_cash = _value_of(counts)
    variance_total = counted_cash - expected_cash
    _check_variance_allowed(variance_total, user=user, who_else="a manager closes the till")
    user = recorded_user(user)
    now = timezone.now()
    _bring_counts_to(
        denominations=denominations,
        target=counts,
        kind=Kind.CLOSE_COUNT,
        session_id=session.pk,
        user=user,
        reason=f"session #{session.pk} closed",
    )
    variance = {value: counts[value] - expected[value] for value in counts}
    session.status = TillSession.Status.CLOSED
    session.closed_at = max(now, session.opened_at)
    session.closed_by = user
    session.closing_counted = _pieces_list(counts)
    session.expected = _pieces_list(expected)
    session.variance = _pieces_list(variance, skip_zero=True)
    session.variance_total = variance_total
    if note:
        session.note = f"{session.note}\n{note}".strip() if session.note else note
    figures.update(status=TillSession.Status.CLOSED, closed_at=session.closed_at.isoformat())
    figures["cash"].update(counted=_money_str(counted_cash), variance=_money_str(variance_total))
    session.report = figures
    session.save()
    logger.info("till %s session #%s closed by %s, variance %s", till.code, session.pk, user, variance_total)
    transaction.on_commit(partial(metrics.observe_variance, till.code, variance_total))
    return session


def session_report(*, session_id: int) -> dict:
    """The X report of an open session (live, read-only) or the Z report frozen at its close."""
    from .reports import session_figures

    session = TillSession.objects.select_related("till").get(pk=session_id)
    if session.report is not None:
        return session.report
    return session_figures(session)
