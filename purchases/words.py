"""An amount in words, as tax invoices print it: Indian grouping (lakh, crore) for rupees."""

from decimal import Decimal

from billing_project.core.money import money

_ONES = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
]
_TENS = ["_", "_", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"]
# (size, name) largest first.
_INDIAN = ((10**7, "Crore"), (10**5, "Lakh"), (1000, "Thousand"), (100, "Hundred"))
_WESTERN = ((10**9, "Billion"), (10**6, "Million"), (1000, "Thousand"), (100, "Hundred"))
# Currency: (main unit, fraction unit, grouping).
_UNITS = {"INR": ("Rupees", "Paise", _INDIAN)}


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def number_in_words(n: int, *, indian: bool = True) -> str:
    """``1153`` → ``One Thousand One Hundred Fifty-Three``; 12,34,567 → ``Twelve Lakh …``."""
    if n < 100:
        return _below_hundred(n)
    for size, name in _INDIAN if indian else _WESTERN:
        if n >= size:
            high, rest = divmod(n, size)
            words = f"{number_in_words(high, indian=indian)} {name}"
            return f"{words} {number_in_words(rest, indian=indian)}" if rest else words
    raise AssertionError("unreachable")


def amount_in_words(amount: Decimal, currency: str) -> str:
    """``Rupees One Thousand One Hundred Fifty-Three and Fifty Paise Only``; other currencies
    name their code (``USD Twelve and 50/100 Only``)."""
    amount = money(amount)
    whole = int(abs(amount))
    fraction = int((abs(amount) - whole) * 100)
    main, minor, grouping = _UNITS.get(currency.upper(), (currency.upper(), None, _WESTERN))
    words = f"{main} {number_in_words(whole, indian=grouping is _INDIAN)}"
    if fraction:
        words += f" and {_below_hundred(fraction)} {minor}" if minor else f" and {fraction:02d}/100"
    prefix = "Minus " if amount < 0 else ""
    return f"{prefix}{words} Only"
