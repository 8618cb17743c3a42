from billing_project.core.errors import Conflict, ErrorCode


class CustomerConflict(Conflict):
    """A bill's email and mobile number belong to two different customers (or the customer of one
    is on file with another of the other): nothing is written."""

    code = ErrorCode.CUSTOMER_CONFLICT
    default_message = "The email and the mobile number belong to two different customers."
