"""The client's address, from the one trusted-proxy setting.

``TRUSTED_PROXY_COUNT`` is how many proxies that append to ``X-Forwarded-For`` stand in front of the
app (0: none, the default). With none, forwarded headers are ignored and the address is
``REMOTE_ADDR``, because any client can send an ``X-Forwarded-For`` of its choice. With ``n``, the
client is the ``n``-th address from the right of ``X-Forwarded-For``: everything to its left was
written by the client and is not trusted.

Every throttle uses this: django-axes (``AXES_CLIENT_IP_CALLABLE``) and DRF's throttles
(``billing_project.api.throttling``).
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    # Fewer entries than proxies means every entry came from a trusted proxy: the left-most is the client.
    candidate = forwarded[-count] if len(forwarded) >= count else forwarded[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
