from billing_project.errors import Conflict, DomainError


class ProductNotFound(DomainError):
    code = "product_not_found"
    default_message = "A product on the bill does not exist."


class ProductInactive(Conflict):
    code = "product_inactive"
    default_message = "A product on the bill is archived and cannot be sold."


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_message = "Not enough stock for a product on the bill."


class InsufficientPayment(DomainError):
    code = "insufficient_payment"
    default_message = "The amount paid is less than the amount payable."
