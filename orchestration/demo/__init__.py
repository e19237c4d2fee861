"""Deterministic demo landing data: a retailer's two-plus years, a story to find, bad input to catch.

Why a generator and not fixtures: the pipeline must be exercised at every scale
(1k to 50M orders) with the same story and the same planted defects, so unit
tests, integration tests, the demo and the benchmarks all start here.

How it stays fast and bounded at 50M orders:
- Per-customer attributes (registration time, acquisition channel, home store,
  which contact details exist, the contact details themselves) are pure hash
  functions of the customer number. An order placed two years after its
  customer registered looks the customer up without 12M customers in memory.
- Everything else is drawn from a numpy Generator seeded per (feed, month,
  chunk), so the output depends only on (orders, seed, end_date, months).
- Rows are built as numpy/arrow columns, a month (or <= CHUNK_ORDERS orders)
  at a time, and written with pyarrow (CSV, Parquet) or DuckDB (JSON Lines).
  The only Python loops run over months, chunks, channels and planted rows.

The manifest (landing_dir/_manifest.json, outside the feed folders) tells
tests what ingestion must find: every file, every planted bad row with its
rule, rejected and twice-landed files, corrections, and the number of distinct
keys each raw table should hold afterwards.

The modules, in the order a row is made:
- world: the demo world as constants (channels, stores, categories, the story's levers)
- vectors: per-entity hashing and the column renderers (ids, timestamps, contact details)
- plan: calendar and volumes, and customers as functions of their number
- writers: landing files being written, and the facts the manifest gathers
- build: the generator's shared state and generate(), the month loop; its steps are in
  acquisition (customers, leads, spend), orders (orders, items, surveys, support),
  story (the story's guaranteed rows), plants and planted_files (the bad input)
- manifest: what the folder holds and what ingestion must make of it
- __main__: the command line, python -m orchestration.demo --out DIR --orders N

Names with a leading underscore are shared between these modules but not
outside the package; callers use the names below.
"""

from orchestration.demo.build import generate
from orchestration.demo.manifest import MANIFEST_NAME
from orchestration.demo.vectors import phone_e164
from orchestration.demo.world import channels_seed_rows, stores_seed_rows

__all__ = ["MANIFEST_NAME", "channels_seed_rows", "generate", "phone_e164", "stores_seed_rows"]
