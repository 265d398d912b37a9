"""The watermark store's three parts over one connection, as a job uses them.

A fetch reads and moves watermarks, records and settles follow-ups, and audits its run
under the run lock: the three classes share the one connection its process opens, so a
job still holds one connection to the database, and `close` closes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestion.followups import FollowUpStore
from ingestion.run_ledger import RunLedger
from ingestion.store_connection import StoreConnection
from ingestion.watermarks import WatermarkStore


@dataclass(frozen=True)
class Stores:
    connection: StoreConnection
    watermarks: WatermarkStore
    followups: FollowUpStore
    ledger: RunLedger

    @classmethod
    def connect(cls, dsn: str) -> Stores:
        """Open the store at `dsn` (see `StoreConnection.connect`), once for all three."""
        connection = StoreConnection.connect(dsn)
        return cls(
            connection,
            WatermarkStore(connection),
            FollowUpStore(connection),
            RunLedger(connection),
        )

    def close(self) -> None:
        self.connection.close()
