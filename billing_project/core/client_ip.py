"""The client's address, from the one trusted-proxy setting, and the key every throttle counts by.

``TRUSTED_PROXY_COUNT`` is how many proxies that append to ``X-Forwarded-For`` stand in front of the
app (0: none, the default). With none, forwarded headers are ignored and the address is
``REMOTE_ADDR``, because any client can send an ``X-Forwarded-For`` of its choice. With ``n``, the
client is the ``n``-th address from the right of ``X-Forwarded-For``: everything to its left was
written by the client and is not trusted.

A proxy may write the address with a port (``203.0.113.7:5555``, ``[2001:db8::1]:443``), with
leading zeros (``203.000.113.007``, read as decimal) or in the IPv4-mapped form of a dual-stack
socket (``::ffff:203.0.113.7``, taken as the IPv4 address); all of these are the client's address.
An entry that is no address at all means the proxy is misconfigured: the request is keyed on the
proxy's own address, and a warning says so, once per request.

``client_key`` is what the throttles and the login lockout count by: an IPv4 address whole, an
IPv6 address's /64 (written as its first address). One subscriber is usually given a whole /64 and
can pick a new address in it for every request, so counting single IPv6 addresses would let them
guess passwords for ever.
django-axes (``AXES_CLIENT_IP_CALLABLE``) and DRF's throttles (``billing_project.core.api.throttling``)
both call it, so they never disagree. Nothing else reads ``REMOTE_ADDR`` or ``X-Forwarded-For``.
"""

import ipaddress
import logging
import re

from django.conf import settings

logger = logging.getLogger("billing.client_ip")

IPV6_PREFIX = 64

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# "[v6]" or "[v6]:port"; "a.b.c.d:port" (a bare IPv6 address has colons of its own, so only the
# bracketed form carries a port there); dotted quads with leading zeros, which ipaddress refuses.
_BRACKETED = re.compile(r"\[([^\[\]]+)\](?::[0-9]{1,5})?")
_IPV4_PORT = re.compile(r"([0-9.]+):[0-9]{1,5}")
_IPV4_ZEROS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")

# Where the answer is kept for the rest of the request: WSGI's environ takes names with a dot for
# the application's own use, and DRF's Request shares it with Django's.
_CACHE = "billing.client_ip"


def parse_address(text: str) -> Address | None:
    """The address in one ``X-Forwarded-For`` entry (or ``REMOTE_ADDR``), or ``None``."""
    text = text.strip().strip('"')
    bracketed = _BRACKETED.fullmatch(text)
    if bracketed:
        text = bracketed[1]
    else:
        with_port = _IPV4_PORT.fullmatch(text)
        if with_port:
            text = with_port[1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        if not _IPV4_ZEROS.fullmatch(text) or any(int(part) > 255 for part in text.split(".")):
            return None
        address = ipaddress.IPv4Address(".".join(str(int(part)) for part in text.split(".")))
    if bracketed and address.version != 6:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(int(address))  # the zone (%eth0) is the proxy's own business
    return address


def _resolve(request) -> str:
    remote_text = request.META.get("REMOTE_ADDR", "") or ""
    remote = parse_address(remote_text)
    remote_str = str(remote) if remote is not None else remote_text
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote_str
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote_str
    # Fewer entries than proxies means every entry came from a trusted proxy: the left-most is the client.
    candidate = forwarded[-count] if len(forwarded) >= count else forwarded[0]
    address = parse_address(candidate)
    if address is None:
        logger.warning(
            "X-Forwarded-For entry %r is not an address; counting this request against the proxy %s. "
            "Check the proxy's header and TRUSTED_PROXY_COUNT.",
            candidate[:100],
            remote_str,
        )
        return remote_str
    return str(address)


def client_ip(request) -> str:
    """The client's address, normalised (``203.0.113.7``, ``2001:db8::1``)."""
    if _CACHE not in request.META:
        request.META[_CACHE] = _resolve(request)
    return request.META[_CACHE]


def client_key(request) -> str:
    """What throttles and the login lockout count by: an IPv4 address, or for an IPv6 address the
    first address of its /64 (``2001:db8:0:1::5`` → ``2001:db8:0:1::``). Still an address, as
    django-axes's ``GenericIPAddressField`` (``inet`` on PostgreSQL) must store it."""
    ip = client_ip(request)
    address = parse_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False).network_address)
    return ip
