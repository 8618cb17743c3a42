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


class ProductArchived(Conflict):
    """An archived product on a transfer: it is not sent anywhere (``product_inactive``)."""

    code = ErrorCode.PRODUCT_INACTIVE
    default_message = "An archived product cannot be transferred."


class TransferNotFound(DomainError):
    """A transfer that does not exist, or that the user may not see or receive (``not_found``)."""

    code = ErrorCode.NOT_FOUND
    default_message = "No such transfer."


class TransferAlreadyReceived(Conflict):
    """Receiving a transfer that is already received: nothing was written."""

    code = ErrorCode.TRANSFER_ALREADY_RECEIVED
    default_message = "The transfer is already received."


class StoreNotVisible(DomainError):
    """A store the user does not work at (and cannot see): answered as if it did not exist."""

    code = ErrorCode.NOT_FOUND
    default_message = "Not found."
