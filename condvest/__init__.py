"""The `condvest` command line: the top of the house.

`condvest.cli` is the console script (one subcommand per pipeline step) and
`condvest.cli_text` its short summaries. It drives `orchestration`, `ingestion`, `ml` and
`reports`, and nothing imports it (tests/python/test_import_flow.py): the Lambda zip, which
ships `orchestration` with the handlers, never carries the CLI.
"""
