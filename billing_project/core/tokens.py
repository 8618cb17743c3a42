"""Issuing and revoking API tokens. Only a hash of each token is stored (django-rest-knox), so a
token is shown once, when it is issued."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from knox.models import AuthToken


def api_token_issue(*, user: AbstractBaseUser) -> tuple[AuthToken, str]:
    """A new token for ``user``, expiring after ``API_TOKEN_TTL_HOURS``; the user's other tokens
    (other tills) stay valid, and those already expired are deleted (authentication does not look
    at them: it checks only the token it is given). Returns the stored row and the token itself."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user)


def api_token_revoke(*, tokens) -> int:
    """Revoke (delete) the given tokens; the next request with one of them gets 401."""
    count, _ = AuthToken.objects.filter(pk__in=[t.pk for t in tokens]).delete()
    return count


def api_tokens_prune_expired(*, now: datetime | None = None) -> int:
    count, _ = AuthToken.objects.filter(expiry__lt=now or timezone.now()).delete()
    return count
