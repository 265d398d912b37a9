"""The `condvest` command line: the top of the house.

`condvest.cli` is the console script (one subcommand per pipeline step) and
`condvest.cli_text` its short summaries. It drives `orchestration`, `ingestion`, `ml` and
`reports`; nothing imports it (tests/python/test_import_flow.py), so the Lambda zip and the
SageMaker source, which ship those packages, never carry the CLI or click.
"""
