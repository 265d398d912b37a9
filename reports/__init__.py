"""What people look at: the daily HTML report, one symbol's chart, and the generated parts of
the docs (the pattern catalog's column docs, the README's pattern table).

Imports `core` and third-party libraries only (tests/python/test_import_flow.py); the
`condvest` CLI imports it inside its commands, and it never ships in the Lambda zip.
"""
