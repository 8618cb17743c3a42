"""DRF throttles keyed on ``billing_project.core.client_ip.client_key`` (the client's IPv4 address or
IPv6 /64, from the trusted-proxy setting), never on a client-supplied ``X-Forwarded-For``: the same
key django-axes locks out, so the two never disagree. Every throttle the API uses derives from one
here (``billing_project/tests/test_login_throttle.py`` checks); ``page_throttle`` puts the same
counts on plain Django page views."""

import math
from functools import wraps

from django.http import HttpResponse
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle

from billing_project.core.client_ip import client_key


class ClientIPScopedRateThrottle(ScopedRateThrottle):
    def get_ident(self, request):
        return client_key(request)


class PerUserRateThrottle(UserRateThrottle):
    """A rate per user (per client address for an anonymous request), named by ``scope`` in
    ``DEFAULT_THROTTLE_RATES``. The counts live in the default cache: share it between workers
    (``CACHE_URL``), or each worker counts on its own."""

    def get_ident(self, request):
        return client_key(request)


def page_throttle(throttle_class: type[PerUserRateThrottle]):
    """``throttle_class`` on a page view: the same counts as the API views that use it, so a user's
    pages and API calls share one budget. Over it, 429 with ``Retry-After`` and a line of text."""

    def decorator(view):
        @wraps(view)
        def throttled(request, *args, **kwargs):
            throttle = throttle_class()
            if throttle.allow_request(request, view=None):  # type: ignore[arg-type]  # a per-user rate reads no view
                return view(request, *args, **kwargs)
            seconds = max(1, math.ceil(throttle.wait() or 1))
            return HttpResponse(
                f"Too many requests. Try again in {seconds} seconds.",
                status=429,
                content_type="text/plain; charset=utf-8",
                headers={"Retry-After": str(seconds)},
            )

        return throttled

    return decorator
