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
