from billing_project.core.errors import Conflict, DomainError, ErrorCode


class TenderMismatch(DomainError):
    code = ErrorCode.TENDER_MISMATCH
    default_message = "The tendered notes do not add up to the amount paid, or use an unknown denomination."


class ChangeUnavailable(Conflict):
    code = ErrorCode.CHANGE_UNAVAILABLE
    default_message = "The drawer cannot make exact change for this bill."


class DenominationExists(Conflict):
    code = ErrorCode.DENOMINATION_EXISTS
    default_message = "That denomination is already in the drawer."


class ChangeTooComplex(ChangeUnavailable):
    """The change search gave up within its step budget (``cashdrawer.change``): a contrived drawer,
    not a real currency. A ``ChangeUnavailable``, so every caller that handles one handles this."""

    code = ErrorCode.CHANGE_TOO_COMPLEX
    default_message = "Working out the change from this drawer takes too long; the bill was not rung up."


class TooManyDenominations(Conflict):
    code = ErrorCode.TOO_MANY_DENOMINATIONS
    default_message = "The drawer already holds the most denomination values it may."


class TillExists(Conflict):
    code = ErrorCode.TILL_EXISTS
    default_message = "A till with that code already exists."


class DefaultTillRename(Conflict):
    code = ErrorCode.DEFAULT_TILL_RENAME
    default_message = "The default till's code cannot change: DEFAULT_TILL names it."


class SeriesTaken(Conflict):
    code = ErrorCode.SERIES_TAKEN
    default_message = "That invoice or credit series is already in use."


class SessionOpen(Conflict):
    code = ErrorCode.SESSION_OPEN
    default_message = "This till already has an open session."


class TillInactive(Conflict):
    code = ErrorCode.TILL_INACTIVE
    default_message = "This till is inactive."


class InsufficientCash(Conflict):
    code = ErrorCode.INSUFFICIENT_CASH
    default_message = "The drawer does not hold that many pieces."


class SessionClosed(Conflict):
    code = ErrorCode.SESSION_CLOSED
    default_message = "The session is closed."


class VarianceNeedsManager(Conflict):
    code = ErrorCode.VARIANCE_NEEDS_MANAGER
    default_message = "The count is over or short by more than the limit: recount, or a manager opens the till."


class SessionPendingApproval(Conflict):
    code = ErrorCode.SESSION_PENDING_APPROVAL
    default_message = "The till's closing count is waiting for a manager's approval."


class OverrideRefused(DomainError):
    code = ErrorCode.OVERRIDE_REFUSED
    default_message = "The manager's username or PIN is wrong, or they may not approve this."


class OverrideInvalid(DomainError):
    code = ErrorCode.OVERRIDE_INVALID
    default_message = "The manager's approval was already used, has expired, or was given for something else."


class OverrideLocked(DomainError):
    code = ErrorCode.OVERRIDE_LOCKED
    default_message = "Too many wrong PINs: this manager's PIN is locked for a while."


class NotPermitted(DomainError):
    """The user's role does not allow it, and no manager's override was given for it."""

    code = ErrorCode.PERMISSION_DENIED
    default_message = "You do not have permission to do this."


class TillNotFound(DomainError):
    code = ErrorCode.TILL_NOT_FOUND
    default_message = "That till does not exist."
