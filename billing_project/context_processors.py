from django.conf import settings

from billing_project.core.money import currency_sign, number_locale


def store(request):
    return {
        "STORE_NAME": settings.STORE_NAME,
        "STORE_ADDRESS": settings.STORE_ADDRESS,
        "CURRENCY": settings.CURRENCY,
        "CURRENCY_SIGN": currency_sign(),
        "NUMBER_LOCALE": number_locale(),  # for a script's Intl.NumberFormat: en-IN or en-US
        "TIME_ZONE": settings.TIME_ZONE,
        "PROJECT_NAME": settings.PROJECT_NAME,
        "VERSION": settings.VERSION,
    }
