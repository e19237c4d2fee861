"""The quality gate: Great Expectations suites between the raw stage and the models.

Plain Python (no Dagster): `run_lead_gate` for leads and `run_suite` for the
lighter suites (orders, survey answers) share one mechanism:

1. The batch is the rows of files registered as 'loaded' since the last gate
   run of the feed (watermark: max file_id checked, in quality.gate_runs).
2. DuckDB prepares a compact, PII-free frame per row: the cross-row facts
   (key occurrences, duplicate of which lead) and normalised contact checks
   are computed in SQL, where they scale; raw emails and phones never leave
   DuckDB.
3. The frame is streamed to pandas in bounded chunks and validated with the
   suite's row expectations (GX pandas datasource). GX decides which rows
   fail: its unexpected_index_list (keyed by the row's rowid) becomes the
   verdicts. GX's SQL datasource on DuckDB is not usable as shipped (GX
   issue 11579), see docs/quality-gate.md.
4. Per-group (channel) and per group x month figures are validated with the
   suite's batch expectations; each rule is blocking or a warning.
5. Verdicts, rule results and the new watermark are written in one
   transaction; Data Docs (static HTML) are built from the merged results.

Suites and thresholds live in expectations/*.json (one file per checkpoint).

Modules: suites (suite files, thresholds, parameters), frames (the row frame
SQL of step 2), gx_runner (the GX context and chunk merging of step 3),
verdicts (row validation and verdicts), batch_rules (step 4 and the rule
messages), results (outcomes, the run's result, its tables), gate (watermarks,
the transaction of step 5, the entry points).
"""

from orchestration.lib.quality.frames import (
    EMAIL_PATTERN,
    FRAME_SQL,
    _leads_frame_sql,  # benchmarks/bench_gate.py times the frame on its own
)
from orchestration.lib.quality.gate import run_lead_gate, run_suite
from orchestration.lib.quality.results import GATE_DDL, GateResult, RuleOutcome
from orchestration.lib.quality.suites import (
    BLOCKING,
    FRESHNESS_FRAMES,
    META_COLUMNS,
    SUITES,
    TIMESTAMP_COLUMNS,
    WARNING,
    SuiteSpec,
    expectations_dir,
    known_channels,
    load_suite,
    warehouse_now,
)

__all__ = [
    "BLOCKING",
    "EMAIL_PATTERN",
    "FRAME_SQL",
    "FRESHNESS_FRAMES",
    "GATE_DDL",
    "META_COLUMNS",
    "SUITES",
    "TIMESTAMP_COLUMNS",
    "WARNING",
    "GateResult",
    "RuleOutcome",
    "SuiteSpec",
    "_leads_frame_sql",
    "expectations_dir",
    "known_channels",
    "load_suite",
    "run_lead_gate",
    "run_suite",
    "warehouse_now",
]
