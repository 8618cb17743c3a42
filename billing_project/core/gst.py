"""GST in one place: the state codes, the store's registration, and how a line's tax splits.

India's GST is levied as CGST + SGST (halves, to the Centre and the State) on a supply within the
supplier's state, and as IGST (the whole, to the Centre) on a supply to another state. Which one a
bill pays is decided by its place of supply against ``STORE_STATE_CODE``.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError

from .money import CENT
from .validators import validate_gstin

ZERO = Decimal("0.00")
B2B, B2C = "B2B", "B2C"
STATE_CODE_PATTERN = r"^[0-9]{2}$"

# The GST state and union territory codes, as the GST portal lists them.
STATES = {
    "01": "Jammu and Kashmir",
    "02": "Himachal Pradesh",
    "03": "Punjab",
    "04": "Chandigarh",
    "05": "Uttarakhand",
    "06": "Haryana",
    "07": "Delhi",
    "08": "Rajasthan",
    "09": "Uttar Pradesh",
    "10": "Bihar",
    "11": "Sikkim",
    "12": "Arunachal Pradesh",
    "13": "Nagaland",
    "14": "Manipur",
    "15": "Mizoram",
    "16": "Tripura",
    "17": "Meghalaya",
    "18": "Assam",
    "19": "West Bengal",
    "20": "Jharkhand",
    "21": "Odisha",
    "22": "Chhattisgarh",
    "23": "Madhya Pradesh",
    "24": "Gujarat",
    "26": "Dadra and Nagar Haveli and Daman and Diu",
    "27": "Maharashtra",
    "29": "Karnataka",
    "30": "Goa",
    "31": "Lakshadweep",
    "32": "Kerala",
    "33": "Tamil Nadu",
    "34": "Puducherry",
    "35": "Andaman and Nicobar Islands",
    "36": "Telangana",
    "37": "Andhra Pradesh",
    "38": "Ladakh",
    "97": "Other Territory",
}
STATE_CHOICES = [(code, f"{code} {name}") for code, name in STATES.items()]


def state_name(code: str | None) -> str:
    return STATES.get(code or "", "")


def place_text(code: str | None) -> str:
    """``Karnataka (29)``, as the documents print a state."""
    return f"{state_name(code)} ({code})" if code else ""


def validate_state_code(value: str) -> str:
    code = str(value or "").strip()
    if code not in STATES:
        raise ValidationError("Enter a GST state code such as 29 (Karnataka).", code="invalid")
    return code


def store_gstin() -> str:
    """The store's GSTIN, or "" for an unregistered store. ``STORE_GSTIN``, else the older
    ``STORE_TAX_ID`` when that is a GSTIN (normalised: upper-case)."""
    given = (getattr(settings, "STORE_GSTIN", "") or "").strip().upper()
    if given:
        return given
    legacy = (getattr(settings, "STORE_TAX_ID", "") or "").strip().upper()
    try:
        return validate_gstin(legacy) if legacy else ""
    except ValidationError:
        return ""  # a tax id of another kind: printed as it is, but no GST registration


def store_state_code() -> str | None:
    """The store's 2-digit state code: ``STORE_STATE_CODE``, else its GSTIN's first two digits."""
    code = (getattr(settings, "STORE_STATE_CODE", "") or "").strip()
    if code:
        return code
    gstin = store_gstin()
    return gstin[:2] if gstin else None


def is_registered() -> bool:
    return bool(store_gstin())


def split_tax(tax: Decimal, *, intra_state: bool) -> tuple[Decimal, Decimal, Decimal]:
    """``(cgst, sgst, igst)`` of a line's ``tax``. Within the state: CGST = tax / 2 rounded half up
    to the paisa, SGST = tax − CGST (so 0.05 → 0.03 + 0.02: they always add up); IGST = 0. To
    another state: IGST = tax. The total is never changed by the split."""
    if not intra_state:
        return ZERO, ZERO, tax
    cgst = (tax / 2).quantize(CENT, rounding=ROUND_HALF_UP)
    return cgst, tax - cgst, ZERO


@checks.register(checks.Tags.compatibility)
def check_store_gst(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Start-up refuses a malformed ``STORE_GSTIN``, a ``STORE_STATE_CODE`` that is not a state,
    and a GSTIN whose first two digits are not the state code."""
    errors: list[checks.CheckMessage] = []
    given = (getattr(settings, "STORE_GSTIN", "") or "").strip()
    legacy = (getattr(settings, "STORE_TAX_ID", "") or "").strip()
    gstin = ""
    if given:
        try:
            gstin = validate_gstin(given)
        except ValidationError:
            errors.append(
                checks.Error(
                    f"STORE_GSTIN {given!r} is not a valid GSTIN (15 characters, a state code first, a correct "
                    "check character).",
                    hint="Correct STORE_GSTIN, or leave it empty for an unregistered store (a Bill of Supply).",
                    id="core.E101",
                )
            )
        if legacy and legacy.upper() != given.upper():
            errors.append(
                checks.Error(
                    "STORE_TAX_ID and STORE_GSTIN are both set and differ.",
                    hint="STORE_TAX_ID is the older name of STORE_GSTIN: keep one of them.",
                    id="core.E102",
                )
            )
    else:
        gstin = store_gstin()
    code = (getattr(settings, "STORE_STATE_CODE", "") or "").strip()
    if code and code not in STATES:
        errors.append(
            checks.Error(
                f"STORE_STATE_CODE {code!r} is not a GST state code.",
                hint="Two digits, such as 29 for Karnataka or 27 for Maharashtra.",
                id="core.E103",
            )
        )
    elif code and gstin and gstin[:2] != code:
        errors.append(
            checks.Error(
                f"The store's GSTIN {gstin} is registered in state {gstin[:2]}, not in STORE_STATE_CODE {code}.",
                hint="A GSTIN's first two digits are its state code: correct one of them.",
                id="core.E104",
            )
        )
    return errors
