"""The bottom of the house: what every other package agrees on.

The lake layout and its one atomic writer (`core.lake`, `core.layout`), the clock
(`core.clock`), the repository root (`core.paths`) and the process settings
(`core.settings`). `ingestion` and `ml` import it; it imports neither, nor
`orchestration`. It ships to the SageMaker containers with `ml`, so it stays Python 3.10
and needs only pyarrow.
"""
