"""Caps that keep a drawer like a real one, so working out change stays cheap (cashdrawer.change):
real currencies have about 15 note and coin values, the largest note in circulation anywhere is
worth less than 1,000,000 units, and no till holds 100,000 pieces of one value. The value and
count caps are CHECK constraints; the number of values is checked by denomination_create under
a lock, as no row constraint can count rows.

Pure Python (no Django imports), so the change benchmark can read them too.
"""

from decimal import Decimal

MAX_COUNT = 100_000
MAX_VALUE = Decimal("1000000.00")
MAX_DENOMINATIONS = 24
