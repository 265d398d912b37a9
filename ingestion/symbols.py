"""The strict ticker pattern every symbol passes before it reaches a path, a URL or SQL."""

from __future__ import annotations

import re

# US listed tickers: a capital letter, then letters/digits, with up to two class or
# suffix parts after '.' or '-' (BRK.A, BF-B, ZZZ.WS.A) and Polygon's lower-case
# share-class marker (BACpB). Anything else (spaces, '/', NUL, '..') is refused.
SYMBOL_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]{0,9}(?:[.\-][A-Za-z0-9]{1,5}){0,2}$")


class InvalidSymbolError(ValueError):
    """A symbol that does not match SYMBOL_PATTERN."""


def is_valid_symbol(symbol: object) -> bool:
    return isinstance(symbol, str) and SYMBOL_PATTERN.fullmatch(symbol) is not None


def require_symbol(symbol: object) -> str:
    """Return the symbol unchanged, or raise if it could be unsafe anywhere downstream."""
    if not is_valid_symbol(symbol):
        raise InvalidSymbolError(f"invalid symbol {symbol!r}: must match {SYMBOL_PATTERN.pattern}")
    return symbol  # type: ignore[return-value]
