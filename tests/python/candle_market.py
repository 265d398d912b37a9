"""A synthetic daily market on which every TA-Lib candlestick function fires with every value.

The 61 CDL* re-implementations in SQL are compared cell by cell with TA-Lib on this data, so it
has to make every (function, non-zero value) pair occur several times (see PATTERN_VALUES), and
it should hit the boundaries of the conditions (C == O, touching bodies, a value exactly on a
Near/Equal band edge) often. It is built in two layers, per symbol:

1. A coarse random bar process. Every open, body and shadow is a whole number of "units" (a
   per-symbol tick of 5 to 50 cents, about 0.3% of the price), and gaps are often zero. Coarse
   units make exact equalities common, which exercises `<` against `<=` and the ±80 cases of
   ENGULFING/HARAMI/HARAMICROSS. On its own this layer makes 58 of the 61 functions fire, but
   about 15 (function, value) pairs only a handful of times per 80,000 bars.
2. Planted templates for the patterns that random bars make rarely or never (MATHOLD, BREAKAWAY,
   CONCEALBABYSWALL, ...). A template is a short OHLC sequence in units relative to the previous
   close, preceded by 10-15 "calm" bars (bodies and shadows of 0 or 1 unit), so that the averages
   TA-Lib compares against (the mean body or range of the 5 or 10 previous bars) are small and
   the template's long bodies, dojis and gaps qualify. Each planting is scaled a little and
   half of them are nudged by one cent at one price, which moves exact equalities built into
   the templates (IDENTICAL3CROWS opens, INNECK closes, ...) just inside or outside a band; the
   few plantings that then stop firing are intended. Templates are dealt to the symbols in
   turn, one per 50 bars, so with the defaults each is planted 32 or 33 times.

Prices stay in a normal regime (10..200, 2-decimal, daily range ~1.5% of the price) because
TA-Lib's running sums are then exact, so a SQL window sum matches them bit for bit (pitfall 9
of the TA-Lib candle spec). All prices are generated as integer cents and divided by 100 once.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import talib

_BOTH = (-100, 100)
_BULLISH = (100,)
_BEARISH = (-100,)
_BULLISH_ONLY = (
    "3STARSINSOUTH 3WHITESOLDIERS CONCEALBABYSWALL DOJI DRAGONFLYDOJI GRAVESTONEDOJI HAMMER "
    "HOMINGPIGEON INVERTEDHAMMER LADDERBOTTOM LONGLEGGEDDOJI MATCHINGLOW MATHOLD MORNINGDOJISTAR "
    "MORNINGSTAR PIERCING RICKSHAWMAN STICKSANDWICH TAKURI UNIQUE3RIVER"
).split()
_BEARISH_ONLY = (
    "2CROWS 3BLACKCROWS ADVANCEBLOCK DARKCLOUDCOVER EVENINGDOJISTAR EVENINGSTAR HANGINGMAN "
    "IDENTICAL3CROWS INNECK ONNECK SHOOTINGSTAR STALLEDPATTERN THRUSTING UPSIDEGAP2CROWS"
).split()
_TWO_SIDED = (
    "3INSIDE 3LINESTRIKE 3OUTSIDE ABANDONEDBABY BELTHOLD BREAKAWAY CLOSINGMARUBOZU COUNTERATTACK "
    "DOJISTAR GAPSIDESIDEWHITE HIGHWAVE KICKING KICKINGBYLENGTH LONGLINE MARUBOZU "
    "RISEFALL3METHODS SEPARATINGLINES SHORTLINE SPINNINGTOP TASUKIGAP TRISTAR XSIDEGAP3METHODS"
).split()

# Every non-zero value each of the 61 functions can return (spec §5.1), by TA-Lib name.
PATTERN_VALUES: dict[str, tuple[int, ...]] = dict(
    sorted(
        [(f"CDL{name}", _BULLISH) for name in _BULLISH_ONLY]
        + [(f"CDL{name}", _BEARISH) for name in _BEARISH_ONLY]
        + [(f"CDL{name}", _BOTH) for name in _TWO_SIDED]
        + [(f"CDL{name}", (-100, -80, 80, 100)) for name in ("ENGULFING", "HARAMI", "HARAMICROSS")]
        + [(f"CDL{name}", (-200, -100, 100, 200)) for name in ("HIKKAKE", "HIKKAKEMOD")]
    )
)

_Bar = tuple[float, float, float, float]  # open, high, low, close in units from the previous close


def _mirror(bars: tuple[_Bar, ...]) -> tuple[_Bar, ...]:
    """The template upside down: colours and gap directions flip, so the signal's sign does."""
    return tuple((-o, -low, -high, -c) for o, high, low, c in bars)


# Templates in units relative to the close before their first bar, written for a context of calm
# bars (mean body ~0.6 units, mean range ~1.8): a "long" body is at least 3 units, a doji body or
# a "very short" shadow is exactly 0, and a "short" body is 0.4, below the mean body even when the
# template's own long candles are in the window. Each comment names the (function, value) the
# template is for; two-sided patterns get their other sign from the mirrored copy below.
_TEMPLATES_BY_NAME: dict[str, tuple[_Bar, ...]] = {
    # 2CROWS -100: long white, black gapping up, black opening in it and closing into the white.
    "2crows": ((0, 4.4, -0.4, 4), (6, 6.4, 4.8, 5), (5.6, 5.8, 1.8, 2)),
    # 3BLACKCROWS -100: a white candle, then three blacks closing on their lows, each opening
    # inside the previous body.
    "3blackcrows": (
        (0, 3.2, -0.2, 3),
        (3, 3.2, 1, 1),
        (2, 2.2, -0.6, -0.6),
        (0.4, 0.6, -2.6, -2.6),
    ),
    # 3LINESTRIKE +100: three rising whites, then a black closing below the first open.
    "3linestrike": ((0, 2.2, -0.2, 2), (1, 3.2, 0.8, 3), (2, 4.2, 1.8, 4), (4.4, 4.6, -0.6, -0.4)),
    # 3STARSINSOUTH +100: long black with a long lower shadow, a smaller black with a higher
    # low, then a small black marubozu inside the second candle's range.
    "3starsinsouth": ((0, 0, -7, -3), (-1, -1, -5, -2.6), (-3.6, -3.6, -4, -4)),
    # 3WHITESOLDIERS +100: three long whites closing on their highs.
    "3whitesoldiers": ((0, 3, -0.2, 3), (2, 5, 1.8, 5), (4, 7, 3.8, 7)),
    # ABANDONEDBABY +100: long black, a doji gapping down clear of both neighbours, a white.
    "abandonedbaby": ((0, 0.2, -4.2, -4), (-5, -4.6, -5.4, -5), (-4.4, -1.8, -4.4, -2)),
    # ADVANCEBLOCK -100: three rising whites whose last body is much shorter.
    "advanceblock": ((0, 4, -0.2, 4), (2, 6.4, 2, 6), (6, 7.2, 6, 6.6)),
    # BREAKAWAY +100: long black, a black gapping down, two lower candles, a white closing
    # into the gap.
    "breakaway": (
        (0, 0.2, -4.2, -4),
        (-4.6, -4.4, -5.8, -5.6),
        (-5.4, -4.8, -6.4, -6.2),
        (-6.4, -5.2, -7.2, -7),
        (-7, -4.2, -7.2, -4.4),
    ),
    # CONCEALBABYSWALL +100: two black marubozu, a black gapping down with an upper shadow into
    # the second one, then a black engulfing its range.
    "concealbabyswall": (
        (0, 0, -3, -3),
        (-3, -3, -6, -6),
        (-6.6, -5.4, -7.6, -7.4),
        (-5.2, -5.2, -8, -8),
    ),
    # COUNTERATTACK +100: long black, long white closing at the same price.
    "counterattack": ((0, 0.2, -4.2, -4), (-8, -3.8, -8.2, -4)),
    # DARKCLOUDCOVER -100: black opening above a long white's high, closing below its middle
    # (mirrored: PIERCING +100).
    "darkcloudcover": ((0, 4.2, -0.2, 4), (4.6, 4.8, 1, 1.2)),
    # EVENINGDOJISTAR and EVENINGSTAR -100 (mirrored: the MORNING patterns +100).
    "eveningdojistar": ((0, 4.2, -0.2, 4), (4.6, 5, 4.4, 4.6), (4.2, 4.4, 0.8, 1)),
    "eveningstar": ((0, 4.2, -0.2, 4), (4.8, 5.2, 4.4, 5.2), (4.6, 4.8, 0.8, 1)),
    # GAPSIDESIDEWHITE +100 and -100: two equal whites side by side above / below a gap (both
    # candles are white either way, so the -100 is not a mirror).
    "gapsidesidewhite-up": ((0, 2.2, -0.2, 2), (3, 4.4, 2.8, 4.2), (3, 4.4, 2.8, 4.2)),
    "gapsidesidewhite-down": ((0, 0.2, -2.2, -2), (-4.2, -2.8, -4.4, -3), (-4.2, -2.8, -4.4, -3)),
    # HIKKAKE and HIKKAKEMOD +100 then +200: a mother bar, two nested inside bars (the first
    # closing near its low), a false breakdown, and a close above the last inside bar's high.
    "hikkakemod": (
        (-1, 3, -3, 1),
        (1, 2, -2, -1.8),
        (-1, 1, -1.6, 0.4),
        (0, 0.6, -2.6, -2.2),
        (-2, 2.2, -2.2, 1.8),
    ),
    # HOMINGPIGEON +100: a small black inside a long black's body.
    "homingpigeon": ((0, 0.2, -4.2, -4), (-1.6, -1.4, -2.2, -2)),
    # IDENTICAL3CROWS -100: each black opens exactly at the previous close.
    "identical3crows": ((0, 0.2, -2, -2), (-2, -1.8, -4, -4), (-4, -3.8, -6, -6)),
    # INNECK, ONNECK, THRUSTING -100: a white opening below a long black's low and closing at
    # its close, at its low, and below its middle.
    "inneck": ((0, 0.2, -4.2, -4), (-5, -3.8, -5.2, -4)),
    "onneck": ((0, 0.2, -4.2, -4), (-5, -4, -5.2, -4.2)),
    "thrusting": ((0, 0.2, -4.2, -4), (-5, -2.6, -5.2, -2.8)),
    # KICKING +100: black marubozu, white marubozu gapping up. KICKINGBYLENGTH follows the
    # longer body: +100 here, -100 in the variant with the shorter white.
    "kicking": ((0, 0, -4, -4), (0.4, 5.4, 0.4, 5.4)),
    "kicking-short-white": ((0, 0, -4, -4), (0.4, 3.4, 0.4, 3.4)),
    # LADDERBOTTOM +100: three falling blacks, a black with an upper shadow, a white closing
    # above that shadow.
    "ladderbottom": (
        (0, 0.2, -2.2, -2),
        (-1.4, -1.2, -3.6, -3.4),
        (-3, -2.8, -5.2, -5),
        (-5.2, -4, -6.2, -6),
        (-4.8, -3.4, -5, -3.6),
    ),
    # MATHOLD +100: long white, three small candles drifting down above its middle (the first
    # gapping up), then a white closing above them all.
    "mathold": (
        (0, 5.2, -0.2, 5),
        (5.8, 6, 5.2, 5.4),
        (5.2, 5.4, 4.4, 4.8),
        (4.6, 4.8, 4, 4.2),
        (4.4, 6.8, 4.2, 6.6),
    ),
    # RISEFALL3METHODS +100: long white, three small falling blacks inside its range, long white.
    "risefall3methods": (
        (0, 5.2, -0.2, 5),
        (4.4, 4.6, 3.8, 4),
        (3.8, 4, 3.2, 3.4),
        (3.2, 3.4, 2.6, 2.8),
        (3, 5.8, 2.8, 5.6),
    ),
    # SEPARATINGLINES +100: black, then a long white marubozu opening at the same price.
    "separatinglines": ((0, 0.2, -2.2, -2), (0, 3.2, 0, 3)),
    # STALLEDPATTERN -100: two long whites, then a short white at the top.
    "stalledpattern": ((0, 3.2, -0.2, 3), (2.8, 6, 2.6, 6), (6, 6.6, 5.8, 6.4)),
    # STICKSANDWICH +100: black, white above its close, black closing at the first close.
    "sticksandwich": ((0, 0.2, -2.2, -2), (-1.6, 0.4, -1.8, 0.2), (0.2, 0.4, -2.2, -2)),
    # TASUKIGAP +100: white, white gapping up, black of equal body closing into the gap.
    "tasukigap": ((0, 2.2, -0.2, 2), (3, 4.2, 2.8, 4), (3.6, 3.8, 2.4, 2.6)),
    # TRISTAR -100: three dojis, the middle one gapping up.
    "tristar": ((0, 0.6, -0.6, 0), (1, 1.6, 0.4, 1), (0.4, 1, -0.2, 0.4)),
    # UNIQUE3RIVER +100: long black, black with a lower low closing higher, small white.
    "unique3river": ((0, 0.2, -4, -4), (-1, -0.8, -6, -3), (-3.6, -3.2, -4, -3.2)),
    # UPSIDEGAP2CROWS -100: long white, small black gapping up, a black engulfing it.
    "upsidegap2crows": ((0, 4.2, -0.2, 4), (5, 5.2, 4.4, 4.6), (5.2, 5.4, 4.2, 4.4)),
    # XSIDEGAP3METHODS +100: two whites with a gap, a black closing into the first body.
    "xsidegap3methods": ((0, 2.2, -0.2, 2), (3, 5.2, 2.8, 5), (4, 4.2, 0.8, 1)),
}
_MIRRORED = (
    "3linestrike abandonedbaby breakaway counterattack darkcloudcover eveningdojistar "
    "eveningstar hikkakemod kicking kicking-short-white risefall3methods separatinglines "
    "tasukigap tristar xsidegap3methods"
).split()
_TEMPLATES: tuple[tuple[_Bar, ...], ...] = (
    *_TEMPLATES_BY_NAME.values(),
    *(_mirror(_TEMPLATES_BY_NAME[name]) for name in _MIRRORED),
)

# One planted template per this many bars of a symbol.
_BARS_PER_TEMPLATE = 50
# Per-symbol coarse unit in cents: a nice value near 0.3% of the symbol's base price.
_UNIT_CENTS = (5, 10, 20, 25, 50)
_UNIT_OF_PRICE = 0.003
# Bar components in units, as (probability, lowest, highest) mixtures. Ordinary bars have a
# mean range of ~6 units (~2% of the price); calm bars, which precede templates, of ~1.8.
_Mixture = tuple[tuple[float, int, int], ...]
_GAP: _Mixture = ((0.5, 0, 0), (0.35, 1, 3), (0.15, 4, 12))
_BODY: _Mixture = ((0.12, 0, 0), (0.43, 1, 2), (0.45, 3, 8))
_SHADOW: _Mixture = ((0.3, 0, 0), (0.5, 1, 2), (0.2, 3, 6))
_CALM_GAP: _Mixture = ((0.7, 0, 0), (0.3, 1, 1))
_CALM_BODY: _Mixture = ((0.4, 0, 0), (0.6, 1, 1))
_CALM_SHADOW: _Mixture = _CALM_BODY


def _draw(rng: np.random.Generator, mixture: _Mixture, n: int) -> np.ndarray:
    """n integers from a mixture of uniform integer ranges."""
    probability, lowest, highest = (np.array(column) for column in zip(*mixture, strict=True))
    component = rng.choice(len(mixture), size=n, p=probability)
    width = highest[component] - lowest[component] + 1
    return lowest[component] + (rng.random(n) * width).astype(np.int64)


def _sizes(rng: np.random.Generator, calm: np.ndarray) -> np.ndarray:
    """Gap, body, upper and lower shadow in units for each bar, calm where `calm` is set."""
    n = len(calm)
    ordinary = [_draw(rng, mixture, n) for mixture in (_GAP, _BODY, _SHADOW, _SHADOW)]
    quiet = [_draw(rng, m, n) for m in (_CALM_GAP, _CALM_BODY, _CALM_SHADOW, _CALM_SHADOW)]
    return np.where(calm[:, None], np.column_stack(quiet), np.column_stack(ordinary))


def _walk(close: int, base: float, sizes: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Random bars (rows of open, high, low, close in cents) after the close `close`: `sizes`
    are the bars' gap, body and shadows in cents, `direction` uniform draws for their signs."""
    rows = []
    for (gap, body, upper, lower), (gap_draw, body_draw) in zip(
        sizes.tolist(), direction.tolist(), strict=True
    ):
        # Pull the price back towards the base so it stays in the 10..200 regime.
        up = min(0.85, max(0.15, 0.5 - 2.0 * math.log(close / base)))
        open_ = close + (gap if gap_draw < up else -gap)
        close = open_ + (body if body_draw < up else -body)
        rows.append((open_, max(open_, close) + upper, min(open_, close) - lower, close))
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def _planted(
    rng: np.random.Generator, close: int, unit: int, template: tuple[_Bar, ...]
) -> np.ndarray:
    """A template in cents after the close `close`, scaled a little and maybe nudged by a cent.

    The scale changes the template's sizes relative to its calm context and how its prices round
    to cents; the nudge moves one price by one cent, sometimes across a threshold."""
    scale = unit * rng.choice((1.0, 1.25, 1.5))
    out = np.rint(np.array(template) * scale).astype(np.int64) + close
    if rng.random() < 0.5:
        out[rng.integers(len(out)), rng.integers(4)] += rng.choice((-1, 1))
        out[:, 1] = out.max(axis=1)
        out[:, 2] = out.min(axis=1)
    return out


def _symbol_ohlc(
    rng: np.random.Generator, bars: int, templates: list[tuple[_Bar, ...]]
) -> np.ndarray:
    """One symbol's bars in cents: random bars with each template (after calm bars) between."""
    base = math.exp(rng.uniform(math.log(1_500), math.log(15_000)))
    unit = min(_UNIT_CENTS, key=lambda cents: abs(cents - _UNIT_OF_PRICE * base))
    close = round(base / unit) * unit
    lengths = np.array([len(template) for template in templates], dtype=np.int64)
    # 10+ calm bars fill the 10-bar averages; with a template's own bars that covers the
    # longest lookback (14), so a template fires even right at the start of the series.
    context = rng.integers(10, 16, size=len(templates))
    free = bars - int(context.sum() + lengths.sum())
    runs = np.diff(np.sort(rng.integers(0, free + 1, size=len(templates))), prepend=0)
    starts = np.cumsum(runs + context) + np.cumsum(lengths) - lengths
    calm = np.zeros(bars, dtype=bool)
    for start, calm_bars in zip(starts, context, strict=True):
        calm[start - calm_bars : start] = True
    sizes = _sizes(rng, calm) * unit
    direction = rng.random((bars, 2))
    pieces = []
    position = 0
    for start, template in zip(starts.tolist(), templates, strict=True):
        walked = _walk(close, base, sizes[position:start], direction[position:start])
        planted = _planted(rng, int(walked[-1, 3]), unit, template)
        pieces += [walked, planted]
        close = int(planted[-1, 3])
        position = start + len(template)
    pieces.append(_walk(close, base, sizes[position:], direction[position:]))
    return np.concatenate(pieces)


def candle_market(symbols: int = 40, bars: int = 2_000, seed: int = 20261123) -> pd.DataFrame:
    """`symbols` series of `bars` daily bars: symbol, bar (0..bars-1), open, high, low, close,
    volume. Deterministic in the arguments; symbol k does not depend on `symbols`.

    Full coverage needs every template planted: the defaults plant each 32 or 33 times and every
    (function, value) pair occurs at least 30 times. Fewer than 50 bars plant nothing."""
    per_symbol = bars // _BARS_PER_TEMPLATE
    frames = []
    for index, stream in enumerate(np.random.SeedSequence(seed).spawn(symbols)):
        rng = np.random.default_rng(stream)
        # Templates in turn across symbols, so every template is planted about equally often.
        first = index * per_symbol
        chosen = [_TEMPLATES[(first + k) % len(_TEMPLATES)] for k in range(per_symbol)]
        cents = _symbol_ohlc(rng, bars, chosen)
        # Integer cents / 100 is the double nearest to the 2-decimal price.
        prices = cents / 100.0
        frames.append(
            pd.DataFrame(
                {
                    "symbol": f"CDLGEN{index:02d}",
                    "bar": np.arange(bars, dtype=np.int64),
                    "open": prices[:, 0],
                    "high": prices[:, 1],
                    "low": prices[:, 2],
                    "close": prices[:, 3],
                    # Not used by the patterns; +1 keeps it positive after truncation.
                    "volume": rng.lognormal(13.0, 0.6, bars).astype(np.int64) + 1,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def pattern_counts(frame: pd.DataFrame) -> dict[str, dict[int, int]]:
    """How often each of the 61 TA-Lib functions returns each non-zero value on `frame`,
    run per symbol in bar order: {"CDL2CROWS": {-100: 17}, ...}; {} for one that never fires."""
    counts: dict[str, dict[int, int]] = {name: {} for name in PATTERN_VALUES}
    for _, bars in frame.sort_values(["symbol", "bar"]).groupby("symbol"):
        prices = [bars[column].to_numpy(np.float64) for column in ("open", "high", "low", "close")]
        for name, tally in counts.items():
            values, occurrences = np.unique(getattr(talib, name)(*prices), return_counts=True)
            for value, occurrence in zip(values.tolist(), occurrences.tolist(), strict=True):
                if value:
                    tally[value] = tally.get(value, 0) + occurrence
    return {name: dict(sorted(tally.items())) for name, tally in counts.items()}
