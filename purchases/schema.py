"""OpenAPI: what drf-spectacular cannot say from the serializers alone."""

# A bill is paid either with `payments` or with the cash shorthand `paid_amount` (+ `tendered`).
PAYMENT_FORMS = [
    {"required": ["paid_amount"], "not": {"required": ["payments"]}},
    {"required": ["payments"], "not": {"anyOf": [{"required": ["paid_amount"]}, {"required": ["tendered"]}]}},
]


def document_payment_forms(result, generator, request, public):
    """Postprocessing hook: ``POST /purchases`` takes exactly one of the two payment forms. The ``oneOf`` is
    wrapped in an ``allOf``: a ``oneOf`` beside the properties reads to client generators as a union of
    untyped alternatives, and the body loses its model (openapi-python-client types it ``Any``)."""
    schema = result.get("components", {}).get("schemas", {}).get("PurchaseCreateRequest")
    if schema is not None:
        schema["allOf"] = [{"oneOf": PAYMENT_FORMS}]
    return result
