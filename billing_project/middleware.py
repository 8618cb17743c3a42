from django.conf import settings
from django.http import JsonResponse


class RequestSizeLimitMiddleware:
    """Refuse an API body over DATA_UPLOAD_MAX_MEMORY_SIZE before anything reads it: 413, JSON."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = settings.API_V1_PREFIX.rstrip("/") + "/"

    def __call__(self, request):
        if request.path.startswith(self.prefix) or request.path == settings.API_V1_PREFIX:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if limit is not None and length > limit:
                return JsonResponse(
                    {
                        "code": "request_too_large",
                        "message": f"The request body is larger than {limit} bytes.",
                        "details": {"limit": limit},
                    },
                    status=413,
                )
        return self.get_response(request)
