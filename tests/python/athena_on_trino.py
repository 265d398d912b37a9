"""An AWS endpoint whose Athena runs the queries on a real Trino server.

dbt-athena asks Athena questions while it compiles (the incremental models' cursors and
constant session bounds, the landing scope): against plain moto every answer is empty and
the bounds compile as "no bound". Here Athena's query API (StartQueryExecution,
GetQueryExecution, GetQueryResults, StopQueryExecution) executes the query on Trino, the
engine Athena is built on, over the warehouse Trino built; every other AWS call (Glue,
S3, STS, Athena workgroups) goes on to moto unchanged. So `dbt compile --target athena`
compiles exactly as it would against a warehouse in that state, and nothing of the SQL is
rewritten: the schema prefix (DBT_SCHEMA_PREFIX) names the same relations on both.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from trino.exceptions import TrinoQueryError

if TYPE_CHECKING:  # a real import would load the plugin before pytest rewrites its asserts
    from tests.python.fixtures.trino import TrinoServer

ATHENA_TARGET_PREFIX = "AmazonAthena."
# Athena's result types carry no parameters: timestamp(3) is `timestamp`, decimal(38,9) is
# `decimal`, varchar(12) is `varchar`.
_TYPE_PARAMETERS = re.compile(r"\(\d+(?:,\s*\d+)?\)")


@dataclass
class _Execution:
    query: str
    state: str = "SUCCEEDED"
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    error: str = ""
    scanned_bytes: int = 0


def athena_type(trino_type: str) -> str:
    return _TYPE_PARAMETERS.sub("", trino_type)


def athena_value(value: Any) -> str | None:
    """A value as Athena's GetQueryResults writes it (VarCharValue)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.isoformat(sep=" ", timespec="milliseconds")
        utc = value.astimezone(dt.UTC).replace(tzinfo=None)
        return utc.isoformat(sep=" ", timespec="milliseconds") + " UTC"
    if isinstance(value, dt.date | Decimal):
        return str(value)
    return str(value)


class _Handler(BaseHTTPRequestHandler):
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: dbt's own log says what it asked."""

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _forward(self) -> None:
        body = self._body()
        upstream = urlsplit(self.server.moto_url)
        conn = http.client.HTTPConnection(upstream.netloc, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        headers["Host"] = upstream.netloc
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        finally:
            conn.close()

    def _answer(self, document: dict[str, Any], status: int = 200) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self) -> None:
        target = self.headers.get("X-Amz-Target", "")
        action = target.removeprefix(ATHENA_TARGET_PREFIX) if target else ""
        handler = (
            self.server.athena.actions.get(action) if target.startswith("AmazonAthena") else None
        )
        if handler is None:
            self._forward()
            return
        self._answer(handler(json.loads(self._body() or b"{}")))

    # http.server's names for the methods it serves
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, moto_url: str, athena: AthenaOnTrino) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.moto_url = moto_url
        self.athena = athena


class AthenaOnTrino:
    """Athena's query API over `trino`; see the module docstring."""

    def __init__(self, trino: TrinoServer) -> None:
        self.trino = trino
        self.executions: dict[str, _Execution] = {}
        self.actions = {
            "StartQueryExecution": self.start_query_execution,
            "GetQueryExecution": self.get_query_execution,
            "GetQueryResults": self.get_query_results,
            "StopQueryExecution": lambda request: {},
        }

    def start_query_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        """Runs the query to its end (dbt-athena then polls once) on the catalog and
        schema of the request's context, as Athena does."""
        context = request.get("QueryExecutionContext", {})
        execution = _Execution(request["QueryString"])
        try:
            with self.trino.connect(schema=None, catalog=context.get("Catalog")) as conn:
                cursor = conn.cursor()
                cursor.execute(execution.query)
                rows = cursor.fetchall()
                execution.columns = [(d[0], athena_type(d[1])) for d in cursor.description or []]
                execution.rows = [[athena_value(value) for value in row] for row in rows]
                execution.scanned_bytes = int(cursor.stats.get("physicalInputBytes", 0))
        except TrinoQueryError as error:
            execution.state, execution.error = "FAILED", f"{error.error_name}: {error.message}"
        query_id = str(uuid.uuid4())
        self.executions[query_id] = execution
        return {"QueryExecutionId": query_id}

    def get_query_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        query_id = request["QueryExecutionId"]
        execution = self.executions[query_id]
        status: dict[str, Any] = {"State": execution.state}
        if execution.error:
            status["StateChangeReason"] = execution.error
            status["AthenaError"] = {"ErrorCategory": 2, "ErrorMessage": execution.error}
        return {
            "QueryExecution": {
                "QueryExecutionId": query_id,
                "Query": execution.query,
                "StatementType": "DML",
                "Status": status,
                "Statistics": {"DataScannedInBytes": execution.scanned_bytes},
            }
        }

    def get_query_results(self, request: dict[str, Any]) -> dict[str, Any]:
        """One page: the header row, then the rows, as Athena lays out a SELECT's result."""
        execution = self.executions[request["QueryExecutionId"]]
        header = [name for name, _ in execution.columns]

        def row(values: list[str | None]) -> dict[str, Any]:
            return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}

        return {
            "UpdateCount": 0,
            "ResultSet": {
                "Rows": [row(list(header)), *(row(values) for values in execution.rows)],
                "ResultSetMetadata": {
                    "ColumnInfo": [
                        {"CatalogName": "hive", "Name": n, "Label": n, "Type": t}
                        for n, t in execution.columns
                    ]
                },
            },
        }


@contextmanager
def athena_on_trino(moto_url: str, trino: TrinoServer) -> Iterator[str]:
    """The endpoint URL of an AWS whose Athena is `trino` and the rest the moto server."""
    server = _ProxyServer(moto_url, AthenaOnTrino(trino))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
