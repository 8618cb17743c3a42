"""DRF throttles keyed on ``billing_project.client_ip.client_key`` (the client's IPv4 address or
IPv6 /64, from the trusted-proxy setting), never on a client-supplied ``X-Forwarded-For``: the same
key django-axes locks out, so the two never disagree. Every throttle the API uses derives from one
here (``billing_project/tests/test_login_throttle.py`` checks)."""

from rest_framework.throttling import ScopedRateThrottle

from billing_project.client_ip import client_key


class ClientIPScopedRateThrottle(ScopedRateThrottle):
    def get_ident(self, request):
        return client_key(request)
