"""Stores for tests: the default store's seller fields (what the store settings used to set) and
more stores with their tills."""

from catalog.models import Store


def set_default_store(**fields) -> Store:
    """Set the default store's ``name``, ``legal_name``, ``address``, ``gstin`` or ``state_code``, as
    a test once overrode ``STORE_NAME``, ``STORE_LEGAL_NAME``, ``STORE_ADDRESS``, ``STORE_GSTIN`` or
    ``STORE_STATE_CODE``: bills rung up afterwards copy them as their seller."""
    store = Store.objects.get(is_default=True)
    for name, value in fields.items():
        setattr(store, name, value)
    store.save()
    return store


def store_with(code: str, *, gstin: str = "", state_code: str = "", name: str = "", address: str = "") -> Store:
    return Store.objects.create(
        code=code, name=name or f"Store {code}", gstin=gstin, state_code=state_code, address=address
    )
