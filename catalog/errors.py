from billing_project.core.errors import DomainError, ErrorCode


class PriceAboveMrp(DomainError):
    code = ErrorCode.PRICE_ABOVE_MRP
    default_message = "The price may not be above the MRP."


class UnknownCode(DomainError):
    """A scanned or typed code that names no product: ``product_not_found``. ``GET /products/lookup``
    answers it with 404 (a lookup of something that is not there); a bill naming an unknown
    product is still the registry's 400."""

    code = ErrorCode.PRODUCT_NOT_FOUND
    default_message = "No product has this code."
    lookup_status = 404
