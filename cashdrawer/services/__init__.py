"""The cash drawers of the tills, and their sessions. Every change to a count goes through here and
lands in the movement ledger; the locks are taken through ``lock_objects``, in its global order.

- ``tills``: tills and their series;
- ``drawer``: denominations and counts;
- ``sales``: what a bill or a refund does at a till;
- ``sessions``: open, cash in and out, close, approve or recount, the X and Z reports;
- ``overrides``: managers' PINs and the single-use override tokens they grant.
"""

from .drawer import denomination_create, drawer_set_count, drawer_set_counts
from .overrides import (
    APPROVE_OVERRIDE,
    Granted,
    approver_for,
    can_approve_override,
    manager_pin_set,
    override_grant,
    override_list,
    override_used_on,
)
from .sales import drawer_check_tender, drawer_plan_change, till_lock_for_bill
from .sessions import (
    can_approve_variance,
    cash_movement_create,
    session_approve,
    session_close,
    session_open,
    session_recount,
    session_report,
)
from .tills import SERIES_FIELDS, till_create, till_default, till_update

__all__ = [
    "APPROVE_OVERRIDE",
    "SERIES_FIELDS",
    "Granted",
    "approver_for",
    "can_approve_override",
    "can_approve_variance",
    "cash_movement_create",
    "denomination_create",
    "drawer_check_tender",
    "drawer_plan_change",
    "drawer_set_count",
    "drawer_set_counts",
    "manager_pin_set",
    "override_grant",
    "override_list",
    "override_used_on",
    "session_approve",
    "session_close",
    "session_open",
    "session_recount",
    "session_report",
    "till_create",
    "till_default",
    "till_lock_for_bill",
    "till_update",
]
