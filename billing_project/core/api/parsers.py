import codecs
import json
from decimal import Decimal

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """JSON numbers with a fraction become ``Decimal``, never ``float``: money stays exact."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            decoded_stream = codecs.getreader(encoding)(stream)
            return json.load(decoded_stream, parse_float=Decimal, parse_constant=_reject_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            # "[[[[…" nested deeper than the interpreter's stack: a malformed body, not a server error.
            raise ParseError("JSON parse error - nested too deeply.") from None


def _reject_constant(name):
    raise ValueError(f"{name} is not a number")
