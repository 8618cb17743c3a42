from billing_project.core.errors import DomainError, ErrorCode


class PriceAboveMrp(DomainError):
    code = ErrorCode.PRICE_ABOVE_MRP
    default_message = "The price may not be above the MRP."
