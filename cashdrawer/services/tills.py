"""Tills: the default till, creating and changing a till, its invoice and credit-note series."""

import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from billing_project.core.db import (
    atomic_write,
)
from billing_project.core.errors import ValidationFailed
from catalog.models import Store
from catalog.stores import default_store_id

from ..errors import (
    DefaultTillRename,
    SeriesTaken,
    TillExists,
)
from ..lock_objects import series_lock, till_for_update
from ..models import (
    DEFAULT_FORM_PATTERN,
    MAX_COUNT,
    SERIES_PATTERN,
    DrawerMovement,
    Till,
    TillSession,
)

logger = logging.getLogger("billing.drawer")

Kind = DrawerMovement.Kind


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


LIVE_STATUSES = (TillSession.Status.OPEN, TillSession.Status.PENDING_APPROVAL)


def _open_sessions(till_id: int):
    return TillSession.objects.filter(till_id=till_id, status=TillSession.Status.OPEN)


def _open_session_id(till_id: int) -> int | None:
    return _open_sessions(till_id).values_list("pk", flat=True).first()


def _live_session(till_id: int) -> tuple[int, str] | None:
    """The till's open or pending-approval session, as ``(id, status)``, or None."""
    return TillSession.objects.filter(till_id=till_id, status__in=LIVE_STATUSES).values_list("pk", "status").first()


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
    store: int | None = None,
) -> Till:
    """Add a till, with an empty drawer, in ``store`` (an id; ``None``: the default store). Blank
    series mean the defaults (the id, C and the id). An unknown or inactive store is a
    ``ValidationFailed`` naming ``store``.

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
    store_id = _store_for_till(store)
    try:
        with transaction.atomic():
            return Till.objects.create(
                code=code,
                name=name,
                is_active=is_active,
                requires_open_session=requires_open_session,
                store_id=store_id,
                **series,
            )
    except IntegrityError:
        raise TillExists(f"A till with code {code} already exists.", details={"code": code}) from None


_TILL_FIELDS = ("code", "name", "is_active", "requires_open_session", "store", *SERIES_FIELDS)


def _store_for_till(store: int | None) -> int:
    """The id of the store a till goes in: ``store``, which must exist and be active, or the default."""
    if store is None:
        return default_store_id()
    if not Store.objects.filter(pk=store, is_active=True).exists():
        raise ValidationFailed(
            f"Store {store} does not exist or is inactive.", details={"store": ["No such active store."]}
        )
    return store


@atomic_write()
def till_update(*, till_id: int, **changes) -> Till:
    """Change a till's ``code``, ``name``, ``is_active``, ``requires_open_session``, ``store`` (an
    id), ``invoice_series`` or ``credit_series`` (blank: back to the default). A till moves to
    another (active) store only before its first session: its sessions, bills, refunds and drawer
    ledger carry its store, and stay where they were taken (``ValidationFailed`` naming ``store``).
    A new series applies to the next bill; numbers already given keep theirs. The default till's code never changes:
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
    if "store" in changes:
        store = changes.pop("store")
        if store is not None and store != till.store_id:
            store_id = _store_for_till(store)
            # Under the till's lock: a bill that opens the first session waits for it, and a bill
            # that read the old store before it is refused at its own till lock (``purchase_create``).
            if TillSession.objects.filter(till_id=till.pk).exists():
                raise ValidationFailed(
                    f"Till {till.code} has sessions in its store; it cannot move to another.",
                    details={"store": ["A till with sessions stays in its store."]},
                )
            changes["store_id"] = store_id
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
