from billing_project.errors import Conflict, DomainError, ErrorCode


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
