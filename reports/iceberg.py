"""The report's tables on AWS: the Iceberg tables an Athena build wrote, read in place by
DuckDB's iceberg extension. `IcebergWarehouse` is the second implementation of
reports.warehouse.Warehouse, beside the DuckDB file of the dev target: the report's SQL
runs unchanged on either.

How a table is found: Athena keeps its Iceberg tables in the Glue Data Catalog, and each
table's parameter `metadata_location` names its current metadata file
(`s3://.../<table>/metadata/<n>-<uuid>.metadata.json`), which every commit replaces
(`glue_metadata_locations`). Trino's Hive metastore holds the same parameter, which is how
the tests find the tables a Trino build wrote. Each table becomes a DuckDB view over
`iceberg_scan` of that file: the snapshot the build committed, its delete files applied.

Views are not Iceberg tables (Athena stores them as engine SQL in Glue): the one view the
report reads, silver.candlestick_events, is defined here over silver.candlestick_patterns
and the pattern catalog (seeds/pattern_catalog.csv, which the `pattern_catalog` seed
loads), as models/silver/candlestick_events.sql defines it.
tests/python/test_report_iceberg.py holds the two reports equal on one lake.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from core.duckdb_extensions import sql_literal
from reports.catalog import load_catalog
from reports.warehouse import LAYERS, Warehouse, WarehouseError

ICEBERG = "ICEBERG"
METADATA_SUFFIX = ".metadata.json"
EVENTS = ("silver", "candlestick_events")
PATTERNS = ("silver", "candlestick_patterns")
# Where the pattern catalog is loaded: not a layer, so never counted as a table.
CATALOG_TABLE = "report_catalog.pattern_catalog"


def glue_metadata_locations(glue: Any, schema_prefix: str) -> dict[tuple[str, str], str]:
    """(layer, table) -> `metadata_location` of every Iceberg table in the Glue databases
    `<schema_prefix><layer>` (dbt's schemas on Athena); views and Hive tables are left out,
    and so is a layer whose database does not exist."""
    found: dict[tuple[str, str], str] = {}
    paginator = glue.get_paginator("get_tables")
    for layer in LAYERS:
        pages = paginator.paginate(DatabaseName=schema_prefix + layer)
        try:
            tables = [table for page in pages for table in page["TableList"]]
        except glue.exceptions.EntityNotFoundException:
            continue
        for table in tables:
            parameters = table.get("Parameters") or {}
            location = parameters.get("metadata_location")
            if str(parameters.get("table_type", "")).upper() == ICEBERG and location:
                found[(layer, table["Name"])] = location
    return found


def iceberg_scan(metadata_location: str) -> str:
    """DuckDB's scan of the table snapshot a metadata file describes: the table's folder and
    the file's version. `allow_moved_paths` reads the data files under that folder, so a
    lake whose files are addressed otherwise than the engine wrote them (Trino's local:///
    URIs in the tests) reads the same; on S3 the paths are the written ones."""
    root, marker, name = metadata_location.rpartition("/metadata/")
    if not marker or not name.endswith(METADATA_SUFFIX):
        raise WarehouseError(
            f"{metadata_location} is not an Iceberg metadata file (<table>/metadata/"
            f"<version>{METADATA_SUFFIX}): check the table's metadata_location in Glue"
        )
    version = name.removesuffix(METADATA_SUFFIX)
    return (
        f"iceberg_scan({sql_literal(root)}, version = {sql_literal(version)}, "
        "allow_moved_paths = true)"
    )


def _events_view(patterns: list[str]) -> str:
    columns = ", ".join(patterns)
    return f"""
        create view silver.candlestick_events as
        with fired as (
            select symbol, date, pattern, signal, built_at
            from (
                unpivot (select symbol, date, built_at, {columns} from silver.candlestick_patterns)
                on {columns} into name pattern value signal
            )
            where signal != 0
        )
        select
            fired.symbol, fired.date, fired.pattern, fired.signal,
            catalog.display_name, catalog.kind, catalog.is_descriptor,
            case
                when catalog.is_descriptor then 'neutral'
                when fired.signal > 0 then 'bullish'
                else 'bearish'
            end as direction,
            fired.built_at
        from fired left join {CATALOG_TABLE} as catalog on fired.pattern = catalog.pattern
    """


class IcebergWarehouse(Warehouse):
    """The tables of `locations` ((layer, table) -> metadata location DuckDB can read) as
    views on `con`, a DuckDB connection with the iceberg extension loaded (and S3 access
    for s3:// locations: core.duckdb_extensions)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        locations: Mapping[tuple[str, str], str],
        source: str,
    ) -> None:
        super().__init__(con, source)
        unknown = sorted({layer for layer, _ in locations} - set(LAYERS))
        if unknown:
            raise WarehouseError(f"no such layer: {', '.join(unknown)}")
        self._relations = set(locations)
        for layer in LAYERS:
            con.execute(f'create schema if not exists "{layer}"')
        for (layer, name), location in sorted(locations.items()):
            con.execute(f'create view "{layer}"."{name}" as select * from {iceberg_scan(location)}')
        if PATTERNS in self._relations:
            catalog = load_catalog()
            con.execute("create schema if not exists report_catalog")
            con.execute(
                f"create table {CATALOG_TABLE} "
                "(pattern varchar, display_name varchar, kind varchar, is_descriptor boolean)"
            )
            con.executemany(
                f"insert into {CATALOG_TABLE} values (?, ?, ?, ?)",
                [[p.pattern, p.display_name, p.kind, p.is_descriptor] for p in catalog],
            )
            con.execute(_events_view([p.pattern for p in catalog]))
            self._relations.add(EVENTS)

    def exists(self, schema: str, name: str) -> bool:
        return (schema, name) in self._relations

    def tables(self) -> dict[str, list[str]]:
        tables = self._relations - {EVENTS}
        return {layer: sorted(n for schema, n in tables if schema == layer) for layer in LAYERS}
