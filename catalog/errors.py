from billing_project.core.errors import Conflict, DomainError, ErrorCode


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


class InsufficientStock(Conflict):
    """Stock would go below 0 (an adjustment, a count): nothing was written."""

    code = ErrorCode.INSUFFICIENT_STOCK
    default_message = "Not enough stock."


class ProductMissing(DomainError):
    """A received, adjusted or counted line names a product that does not exist: create it first."""

    code = ErrorCode.PRODUCT_NOT_FOUND
    default_message = "A product does not exist."


class SupplierNotFound(DomainError):
    code = ErrorCode.SUPPLIER_NOT_FOUND
    default_message = "The supplier does not exist."


class StockCountPosted(Conflict):
    code = ErrorCode.STOCK_COUNT_POSTED
    default_message = "The stock count is already posted."


class StoreNotFound(DomainError):
    """Stock at a store that does not exist, is inactive, or that the user does not see."""

    code = ErrorCode.STORE_NOT_FOUND
    default_message = "The store does not exist."
