"""Which till this browser rings up at: a cookie, set on the till picker page."""

from .models import Till, TillSession
from .services import till_default

TILL_COOKIE = "till"
TILL_COOKIE_AGE = 400 * 24 * 3600  # as long as browsers keep a cookie


def current_till(request) -> Till:
    """The till this browser picked (an active till), or the default till."""
    value = request.COOKIES.get(TILL_COOKIE, "")
    till = None
    if value.isdigit() and len(value) <= 18:
        till = Till.objects.filter(pk=int(value), is_active=True).first()
    return till or till_default()


def till_status(till: Till) -> dict:
    """The till and its open session (or None), and a session whose count waits for a manager's
    approval (or None), for the pages' headers."""
    live = TillSession.objects.filter(
        till=till, status__in=[TillSession.Status.OPEN, TillSession.Status.PENDING_APPROVAL]
    ).first()
    session = live if live is not None and live.is_open else None
    pending = live if live is not None and live.is_pending else None
    return {"till": till, "session": session, "pending": pending}
