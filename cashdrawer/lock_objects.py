"""Every row lock the cash drawer takes, in one place, so the global order is visible at a glance.

The global lock order (every transaction that locks more than one of these takes them in this
order, so two transactions can wait for each other but never deadlock):

1. the customer (insert, unique email index)           -- bills
2. ONE bill row (purchase)                              -- refunds (purchases.lock_objects)
3. products by primary key                              -- bills, refunds (purchases.lock_objects)
4. ONE till row                                         -- bills, refunds, session open/close, cash
                                                           in/out, drawer counts set by a manager
5. that till's denominations by value                   -- the same

The till row is the till's mutex: everything that reads or changes a till's drawer or its session
locks the till row first. So a close and a bill at the same till run one after the other, and a
bill that waited for a close sees the session closed (it opens a new one, or is refused). Session
rows are only written under their till's lock, so they need no lock of their own. No transaction
locks two tills, so bills at different tills never wait on each other's drawer rows; they still
meet on a product they both sell (step 3). A refund locks its bill's row first (step 2), so two
refunds of one bill never both pass the cap; a bill and a refund meet on products and the till.
"""

from .models import Denomination, Till


def till_for_update(*, till_id: int | None = None, code: str | None = None):
    """The till row, locked (step 4). Give exactly one of ``till_id`` or ``code``."""
    qs = Till.objects.select_for_update(of=("self",))
    return qs.filter(pk=till_id) if till_id is not None else qs.filter(code=code)


def denominations_for_update(*, till_id: int):
    """All of one till's denominations, locked in ascending value (step 5)."""
    return Denomination.objects.select_for_update(of=("self",)).filter(till_id=till_id).order_by("value")


def denomination_for_update(*, till_id: int, value):
    """One of a till's denominations, locked (step 5)."""
    return Denomination.objects.select_for_update(of=("self",)).filter(till_id=till_id, value=value)
