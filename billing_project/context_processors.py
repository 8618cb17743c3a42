from django.conf import settings


def store(request):
    return {
        "STORE_NAME": settings.STORE_NAME,
        "STORE_ADDRESS": settings.STORE_ADDRESS,
        "CURRENCY": settings.CURRENCY,
        "PROJECT_NAME": settings.PROJECT_NAME,
        "VERSION": settings.VERSION,
    }
