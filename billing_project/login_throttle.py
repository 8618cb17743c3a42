"""Password-guessing limits for the login page and the admin login.

Failed logins are counted per client address and per username in the cache, in a fixed window
(``LOGIN_THROTTLE_RATE``, e.g. ``10/min``). Past the limit the form refuses to try the password at
all until the window ends. Set ``CACHE_URL`` to a shared cache (e.g. ``dbcache://django_cache``
after ``createcachetable``) so every gunicorn worker sees the same counts.
"""

import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    _Form = AuthenticationForm
else:
    _Form = object

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _limit() -> tuple[int, int]:
    count, period = settings.LOGIN_THROTTLE_RATE.split("/")
    return int(count), _PERIODS[period.strip()[0]]


def _keys(request, username: str) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    digest = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    return [f"login-failures:ip:{address}", f"login-failures:user:{digest}"]


class ThrottledLoginMixin(_Form):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed logins. Wait a minute and try again.",
    }

    def clean(self):
        limit, window = _limit()
        keys = _keys(self.request, self.data.get("username", ""))
        if any((cache.get(key) or 0) >= limit for key in keys):
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except ValidationError:
            for key in keys:
                cache.add(key, 0, timeout=window)
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, timeout=window)
            raise


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
