"""Landing files into DuckDB, with nothing lost.

The path of one file:
  1. safety: only regular files under <landing>/<feed>/ with an allowed
     extension; symlinks that leave the landing folder are refused;
  2. registry: content hash + size; the same content again is a no-op. A file
     registered before under the same path, size and modification time is
     skipped without reading it (as rsync's quick check): a daily run does not
     re-hash the whole landing history. FLYWHEEL_INGEST_REHASH=1 hashes every
     file again (for a source that rewrites files keeping size and time);
  3. header: columns matched case-insensitively; a missing required column
     rejects the whole file with a message naming file and column;
  4. read: DuckDB's own readers into a staging table of text columns. For CSV
     the rows read + rows rejected must equal the file's data lines; if they
     do not (an unterminated quote swallowing lines) or any line was
     rejected, the file is re-read line by line in Python so that every
     physical line is either loaded or quarantined with its line number;
  5. validate: one SQL pass gives each row its first broken rule;
  6. upsert: good rows replace rows with the same primary key (latest file
     wins), bad rows go to meta.quarantine with their raw values.
Each file is one transaction: a crash leaves either all of it or none.
File names and header names are never pasted into SQL: they travel as
bound parameters, and staging columns get positional names (c0, c1, ...).

Modules: landing (step 1 and the landing folder check), registry (step 2,
meta.files and the summaries), readers (steps 3 and 4), rules (step 5; the
rules themselves are declared in feeds.py), load (step 6, retractions, the
per-file transaction and one feed's run).
"""

from orchestration.lib.feeds import MAX_LINE_AMOUNT
from orchestration.lib.ingest.landing import (
    LandingDirError,
    check_landing_dir,
    discover,
    file_format,
    landing_layout,
)
from orchestration.lib.ingest.load import ingest_feed, ingest_file, is_retraction, key_feed
from orchestration.lib.ingest.readers import (
    COLUMN_NAME_SHAPE,
    CSV_FIELD_LIMIT,
    GZIP_ALLOWANCE,
    MAX_RECORD_LINES,
    IngestError,
    count_lines,
    match_columns,
    read_header,
)
from orchestration.lib.ingest.registry import (
    ORPHAN_SQL,
    FeedReport,
    FileReport,
    content_hash,
    orphan_counts,
    quarantine_by_rule,
    summarise,
)
from orchestration.lib.ingest.rules import (
    EXACT_SHAPES,
    TS_MAX_YEAR,
    TS_MIN_YEAR,
    TYPE_NAMES,
    validate_stage,
)

__all__ = [
    "COLUMN_NAME_SHAPE",
    "CSV_FIELD_LIMIT",
    "EXACT_SHAPES",
    "GZIP_ALLOWANCE",
    "MAX_LINE_AMOUNT",
    "MAX_RECORD_LINES",
    "ORPHAN_SQL",
    "TS_MAX_YEAR",
    "TS_MIN_YEAR",
    "TYPE_NAMES",
    "FeedReport",
    "FileReport",
    "IngestError",
    "LandingDirError",
    "check_landing_dir",
    "content_hash",
    "count_lines",
    "discover",
    "file_format",
    "ingest_feed",
    "ingest_file",
    "is_retraction",
    "key_feed",
    "landing_layout",
    "match_columns",
    "orphan_counts",
    "quarantine_by_rule",
    "read_header",
    "summarise",
    "validate_stage",
]
