"""OpenAPI: what drf-spectacular cannot say from the serializers alone."""

# A bill is paid either with `payments` or with the cash shorthand `paid_amount` (+ `tendered`).
PAYMENT_FORMS = [
    {"required": ["paid_amount"], "not": {"required": ["payments"]}},
    {"required": ["payments"], "not": {"anyOf": [{"required": ["paid_amount"]}, {"required": ["tendered"]}]}},
]


def document_payment_forms(result, generator, request, public):
    """Postprocessing hook: ``POST /purchases`` takes exactly one of the two payment forms."""
    schema = result.get("components", {}).get("schemas", {}).get("PurchaseCreateRequest")
    if schema is not None:
        schema["oneOf"] = PAYMENT_FORMS
    return result
