from billing_project.errors import Conflict, DomainError


class TenderMismatch(DomainError):
    code = "tender_mismatch"
    default_message = "The tendered notes do not add up to the amount paid, or use an unknown denomination."


class ChangeUnavailable(Conflict):
    code = "change_unavailable"
    default_message = "The drawer cannot make exact change for this bill."


class DenominationExists(Conflict):
    code = "denomination_exists"
    default_message = "That denomination is already in the drawer."


class TillExists(Conflict):
    code = "till_exists"
    default_message = "A till with that code already exists."


class SessionOpen(Conflict):
    code = "session_open"
    default_message = "This till already has an open session."


class TillInactive(Conflict):
    code = "till_inactive"
    default_message = "This till is inactive."


class InsufficientCash(Conflict):
    code = "insufficient_cash"
    default_message = "The drawer does not hold that many pieces."


class SessionClosed(Conflict):
    code = "session_closed"
    default_message = "The session is closed."


class VarianceNeedsManager(Conflict):
    code = "variance_needs_manager"
    default_message = "The count is over or short by more than the limit: recount, or a manager closes the till."
