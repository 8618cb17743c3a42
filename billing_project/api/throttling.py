"""DRF throttles keyed on the client address from ``billing_project.client_ip``, never on a
client-supplied ``X-Forwarded-For``."""

from rest_framework.throttling import ScopedRateThrottle

from billing_project.client_ip import client_ip


class ClientIPScopedRateThrottle(ScopedRateThrottle):
    def get_ident(self, request):
        return client_ip(request)
