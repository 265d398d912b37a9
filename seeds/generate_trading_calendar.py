"""Generate seeds/trading_calendar.csv: every NYSE session from 1990-01-01 to 2035-12-31.

The calendar is the single source of sessions for ingestion (gap filling) and for dbt
(`session_index` drives the Fibonacci buckets), so it is generated once and committed.
Extend the range by changing START/END and re-running:

    python seeds/generate_trading_calendar.py

`exchange_calendars` is a dev dependency: the runtime only reads the CSV.
"""

from __future__ import annotations

import csv
from pathlib import Path

import exchange_calendars

START = "1990-01-01"
END = "2035-12-31"
OUTPUT = Path(__file__).with_name("trading_calendar.csv")


def build_rows() -> list[dict[str, object]]:
    calendar = exchange_calendars.get_calendar("XNYS", start=START, end=END)
    early_closes = set(calendar.early_closes)
    rows = []
    for index, session in enumerate(calendar.sessions):
        close_utc = calendar.session_close(session)
        rows.append(
            {
                "session_date": session.date().isoformat(),
                "session_index": index,
                "is_early_close": session in early_closes,
                "close_at_utc": close_utc.strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    return rows


def main() -> None:
    rows = build_rows()
    with OUTPUT.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} sessions to {OUTPUT}")


if __name__ == "__main__":
    main()
