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


class ChangeTooComplex(ChangeUnavailable):
    """The change search gave up within its step budget (``cashdrawer.change``): a contrived drawer,
    not a real currency. A ``ChangeUnavailable``, so every caller that handles one handles this."""

    code = "change_too_complex"
    default_message = "Working out the change from this drawer takes too long; the bill was not rung up."


class TooManyDenominations(Conflict):
    code = "too_many_denominations"
    default_message = "The drawer already holds the most denomination values it may."
