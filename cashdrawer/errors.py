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
