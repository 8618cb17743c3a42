from billing_project.core.errors import Conflict, DomainError, ErrorCode


class ProductNotFound(DomainError):
    code = ErrorCode.PRODUCT_NOT_FOUND
    default_message = "A product on the bill does not exist."


class ProductInactive(Conflict):
    code = ErrorCode.PRODUCT_INACTIVE
    default_message = "A product on the bill is archived and cannot be sold."


class InsufficientStock(Conflict):
    code = ErrorCode.INSUFFICIENT_STOCK
    default_message = "Not enough stock for a product on the bill."


class InsufficientPayment(DomainError):
    code = ErrorCode.INSUFFICIENT_PAYMENT
    default_message = "The amount paid is less than the amount payable."


class UnknownPaymentMethod(DomainError):
    code = ErrorCode.UNKNOWN_PAYMENT_METHOD
    default_message = "A payment's method is not an active payment method."


class Overpayment(DomainError):
    code = ErrorCode.OVERPAYMENT
    default_message = "The card and other non-cash payments add up to more than the bill's total."


class DiscountNeedsManager(DomainError):
    code = ErrorCode.DISCOUNT_NEEDS_MANAGER
    default_message = "A discount this large needs a manager."


class NotOnBill(DomainError):
    code = ErrorCode.NOT_ON_BILL
    default_message = "A product to refund is not on the bill."


class RefundExceedsSold(Conflict):
    code = ErrorCode.REFUND_EXCEEDS_SOLD
    default_message = "More would be refunded than was sold."


class RefundPaymentMismatch(DomainError):
    code = ErrorCode.REFUND_PAYMENT_MISMATCH
    default_message = "The refund's payments do not match its amount."


class ReportRangeInvalid(DomainError):
    code = ErrorCode.REPORT_RANGE_INVALID
    default_message = "The report's dates are not a valid range."


class ReportGroupingInvalid(DomainError):
    code = ErrorCode.REPORT_GROUPING_INVALID
    default_message = "The report cannot be grouped that way."


class HeldBillNotFound(DomainError):
    """A parked bill that is not there (any more): recalled or discarded already, or never parked."""

    code = ErrorCode.NOT_FOUND
    default_message = "No such parked bill: it was recalled or discarded already."
