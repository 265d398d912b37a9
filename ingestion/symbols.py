"""The strict ticker pattern every symbol passes before it reaches a path, a URL or SQL."""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

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


def normalize_symbol(symbol: object) -> str:
    """A symbol a person typed, as the source spells it: an all-lower-case one ("aapl",
    "brk.b") is upper-cased (with a warning) rather than fetched as nothing. Mixed case
    stays: Polygon marks share classes with a lower-case letter (BACpB). Then checked as
    `require_symbol` does."""
    if isinstance(symbol, str) and symbol != symbol.upper() and symbol == symbol.lower():
        log.warning(f"symbol {symbol!r} upper-cased to {symbol.upper()}", extra={"symbol": symbol})
        symbol = symbol.upper()
    return require_symbol(symbol)
