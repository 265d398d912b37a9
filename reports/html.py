"""Small HTML building blocks: every value escaped, every chart an inline PNG, no script,
so a page is one file that opens offline and behaves the same in every browser."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

DASH = "\u2013"  # an empty cell

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1000px;
       padding: 16px 24px; color: #212121; background: #ffffff; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px;
     border-bottom: 1px solid #e0e0e0; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 10px;
        border-bottom: 1px solid #eeeeee; text-align: left; } td.num { text-align: right; }
figure { margin: 12px 0; } figure img { max-width: 100%; border: 1px solid #eeeeee; }
.verdict { padding: 8px 12px; border-left: 4px solid #ef5350; background: #fff3f3; }
.verdict.edge { border-left-color: #26a69a; background: #f1faf9; }
.muted { color: #757575; } .bullish { color: #1b7f74; } .bearish { color: #c62828; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def cell(value: object, field: str | None = None, numeric: bool = False) -> str:
    attributes = (f' data-field="{esc(field)}"' if field else "") + (
        ' class="num"' if numeric else ""
    )
    return f"<td{attributes}>{esc(value)}</td>"


def table(
    headers: Sequence[str], rows: Iterable[str], table_id: str, row_count: int | None = None
) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(rows)
    count = f' data-rows="{row_count}"' if row_count is not None else ""
    return (
        f'<table id="{esc(table_id)}"{count}><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def row(cells: Iterable[str], **data: object) -> str:
    attributes = "".join(f' data-{esc(k)}="{esc(v)}"' for k, v in data.items())
    return f"<tr{attributes}>{''.join(cells)}</tr>"


def png_figure(png: bytes, alt: str, caption: str, chart_id: str) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<figure class="chart" id="{esc(chart_id)}"><img alt="{esc(alt)}" '
        f'src="data:image/png;base64,{encoded}"><figcaption class="muted">{esc(caption)}'
        "</figcaption></figure>"
    )


def page(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    ).encode()


def number(value: float | None, digits: int = 4) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.2f}%"
