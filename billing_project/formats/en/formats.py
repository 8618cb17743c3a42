"""Date formats for English, as the till and the receipt write them: ``30 Nov 2026, 12:37``.

Django's own English formats (``Nov. 30, 2026, 12:37 p.m.``) would make the admin write dates
another way than the billing page. Input formats are left as Django's."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
