"""Which till this browser rings up at: a cookie, set on the till picker page."""

from django.http import Http404

from catalog.stores import can_see_store, visible_store_ids

from .models import Till, TillSession
from .services import till_default

TILL_COOKIE = "till"
TILL_COOKIE_AGE = 400 * 24 * 3600  # as long as browsers keep a cookie


def user_tills(user):
    """The tills of the stores ``user`` sees (``catalog.stores``)."""
    ids = visible_store_ids(user)
    return Till.objects.all() if ids is None else Till.objects.filter(store__in=ids)


def current_till(request) -> Till:
    """The till this browser picked (an active till of the user's stores), or the default till when
    the user sees it, or the first active till of the user's stores; 404 when they have none."""
    value = request.COOKIES.get(TILL_COOKIE, "")
    tills = user_tills(request.user)
    till = None
    if value.isdigit() and len(value) <= 18:
        till = tills.filter(pk=int(value), is_active=True).first()
    if till is not None:
        return till
    default = till_default()
    if can_see_store(request.user, default.store_id):
        return default
    till = tills.filter(is_active=True).order_by("code").first()
    if till is None:
        raise Http404("No till in your store.")
    return till


def till_status(till: Till) -> dict:
    """The till and its open session (or None), and a session whose count waits for a manager's
    approval (or None), for the pages' headers."""
    live = TillSession.objects.filter(
        till=till, status__in=[TillSession.Status.OPEN, TillSession.Status.PENDING_APPROVAL]
    ).first()
    session = live if live is not None and live.is_open else None
    pending = live if live is not None and live.is_pending else None
    return {"till": till, "session": session, "pending": pending}
