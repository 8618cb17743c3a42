"""The cash drawers of the tills, and their sessions. Every change to a count goes through here and
lands in the movement ledger; the locks are taken through ``lock_objects``, in its global order.

- ``tills``: tills and their series;
- ``drawer``: denominations and counts;
- ``sales``: what a bill or a refund does at a till;
- ``sessions``: open, cash in and out, close, the X and Z reports.
"""

from .drawer import denomination_create, drawer_set_count, drawer_set_counts
from .sales import drawer_check_tender, drawer_plan_change, till_lock_for_bill
from .sessions import can_approve_variance, cash_movement_create, session_close, session_open, session_report
from .tills import SERIES_FIELDS, till_create, till_default, till_update

__all__ = [
    "SERIES_FIELDS",
    "can_approve_variance",
    "cash_movement_create",
    "denomination_create",
    "drawer_check_tender",
    "drawer_plan_change",
    "drawer_set_count",
    "drawer_set_counts",
    "session_close",
    "session_open",
    "session_report",
    "till_create",
    "till_default",
    "till_lock_for_bill",
    "till_update",
]
