"""The view glue for ``Idempotency-Key`` on every POST that moves money or stock."""

from collections.abc import Callable

from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from purchases.idempotency import idempotent_call

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    OpenApiParameter.HEADER,
    description=(
        "Up to 255 characters, scoped to the user. A retry with the same key and body replays the "
        "first response (header `Idempotent-Replayed: true`) instead of doing it twice."
    ),
)


def idempotent_response(request, call: Callable[[], tuple[int, dict]], *, scoped: bool = True) -> Response:
    """Answer with ``call()``'s ``(status, body)``, at most once per ``Idempotency-Key`` when the
    request has one (``purchases.idempotency``). ``scoped`` ties the key to this path, so one key
    sent to two endpoints is a conflict rather than a replay of the other endpoint's answer."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        http_status, body = call()
        return Response(body, status=http_status)
    payload = {"path": request.path, "body": request.data} if scoped else request.data
    http_status, body, replayed = idempotent_call(user=request.user, key=key, payload=payload, call=call)
    return Response(body, status=http_status, headers={"Idempotent-Replayed": "true"} if replayed else None)
