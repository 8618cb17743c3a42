"""Opening and changing stores: one service per use case, for the API and the admin.

A store's GST registration is checked as the store settings were (issue 23): a GSTIN with
``validate_gstin``, a state code among ``core.gst.STATES``, and the GSTIN's first two digits equal to
the state code when both are given. The default store stays active. Who may call these (head office)
is the caller's check (``catalog.stores.sees_all_stores``)."""

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing_project.core.db import atomic_write
from billing_project.core.errors import ValidationFailed
from billing_project.core.gst import STATES
from billing_project.core.validators import validate_code_text, validate_gstin, validate_plain_text

from .models import Store

logger = logging.getLogger("billing.catalog")

STORE_FIELDS = ("code", "name", "legal_name", "address", "state_code", "gstin", "is_active")


def _cleaned(fields: Mapping[str, Any], current: Store | None) -> dict[str, Any]:
    """``fields`` checked and normalised; every problem at once, as a ``ValidationFailed`` by field."""
    problems: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("code", "name", "legal_name", "address", "state_code", "gstin"):
            value = str(value if value is not None else "").strip()
        try:
            if name == "code":
                if not value:
                    raise ValidationError("A store needs a code.")
                validate_code_text(value)
            elif name == "name":
                if not value:
                    raise ValidationError("A store needs a name.")
                validate_plain_text(value)
            elif name in ("legal_name", "address"):
                validate_plain_text(value.replace("\r\n", " ").replace("\n", " "))
            elif name == "state_code" and value and value not in STATES:
                raise ValidationError("Enter a GST state code such as 29 (Karnataka).")
            elif name == "gstin" and value:
                value = validate_gstin(value)
        except ValidationError as exc:
            problems[name] = exc.messages
        cleaned[name] = value
    gstin = cleaned.get("gstin", current.gstin if current else "")
    state = cleaned.get("state_code", current.state_code if current else "")
    if gstin and state and not gstin.startswith(state) and not problems:
        problems["gstin"] = [f"A GSTIN of state {state} starts with {state}."]
    if current is not None and current.is_default and cleaned.get("is_active") is False:
        problems["is_active"] = ["The default store cannot be deactivated."]
    if problems:
        raise ValidationFailed(next(iter(problems.values()))[0], details=problems)
    return cleaned


def _save(store: Store, fields: list[str] | None) -> Store:
    try:
        with transaction.atomic():
            store.save(update_fields=fields)
    except IntegrityError:
        raise ValidationFailed(
            f"A store with code {store.code} already exists.", details={"code": ["A store with this code exists."]}
        ) from None
    return store


@atomic_write()
def store_create(
    *,
    code: str,
    name: str,
    legal_name: str = "",
    address: str = "",
    state_code: str = "",
    gstin: str = "",
    is_active: bool = True,
) -> Store:
    """Open a store (never the default one: there is one, made by migration). Raises
    ``ValidationFailed`` for a bad field, a GSTIN of another state or a code already taken."""
    fields = _cleaned(
        {
            "code": code,
            "name": name,
            "legal_name": legal_name,
            "address": address,
            "state_code": state_code,
            "gstin": gstin,
            "is_active": is_active,
        },
        None,
    )
    store = _save(Store(**fields), None)
    logger.info("store %s opened", store.code)
    return store


@atomic_write()
def store_update(*, store_id: int, **changes: Any) -> Store:
    """Change a store's ``code``, ``name``, ``legal_name``, ``address``, ``state_code``, ``gstin`` or
    ``is_active``, under its row's lock. Bills already rung up keep the seller they copied (their
    ``seller_*`` fields); the next bill at the store's tills carries the new values. Raises
    ``Store.DoesNotExist`` and ``ValidationFailed`` (as ``store_create``, and for deactivating the
    default store)."""
    unknown = set(changes) - set(STORE_FIELDS)
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    store = Store.objects.select_for_update().get(pk=store_id)
    cleaned = _cleaned(changes, store)
    for field, value in cleaned.items():
        setattr(store, field, value)
    _save(store, list(cleaned) or None)
    logger.info("store %s changed: %s", store.code, ", ".join(sorted(cleaned)))
    return store
