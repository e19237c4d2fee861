"""The mutation check: deliberate breaks that the suite must catch.

Each break edits one line of the project, runs the tests named beside it, expects them
to fail, and puts the line back (also when interrupted). Run it on a clean tree:

    .venv/bin/python -m tests.mutations            # every break
    .venv/bin/python -m tests.mutations churn nps  # the breaks whose name contains a word

It prints one line per break: caught (a test failed: pytest exit code 1) or MISSED
(anything else: passed, or pytest itself could not run), with the wall time, and exits
1 when a break was missed. It refuses to start on files with uncommitted changes, and
puts a line back on an exception, Ctrl-C or SIGTERM (not on SIGKILL: `git checkout`
the file then). Not collected by pytest (no test_ prefix): it
runs pytest itself, one break at a time, on the files as edited.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DBT_BUILD = "tests/dbt/test_dbt_build.py"


@dataclass(frozen=True)
class Break:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


BREAKS = [
    Break(
        "churn_rate: numerator and denominator swapped",
        "dbt_project/macros/metric_catalog.sql",
        "'numerator': 'churned_customers', 'denominator': 'churn_base'",
        "'numerator': 'churn_base', 'denominator': 'churned_customers'",
        (f"{DBT_BUILD}::test_build_succeeds",),
    ),
    Break(
        "cpm: the per-mille scale lost",
        "dbt_project/macros/metric_catalog.sql",
        "'scale': 1000, 'section': 'awareness'",
        "'section': 'awareness'",
        (f"{DBT_BUILD}::test_build_succeeds",),
    ),
    Break(
        "metric tree: a misspelt row (churn_rat)",
        "seeds/metric_tree.csv",
        "\nchurn_rate,",
        "\nchurn_rat,",
        ("tests/dbt/test_metric_registry.py::test_the_project_tree_is_registered",),
    ),
    Break(
        "nps: a score of 8 counted as a promoter",
        "dbt_project/dbt_project.yml",
        "nps_promoter_min_score: 9",
        "nps_promoter_min_score: 8",
        (f"{DBT_BUILD}::test_build_succeeds", f"{DBT_BUILD}::test_cx_figures"),
    ),
    Break(
        "activation: day 30 no longer activates",
        "dbt_project/models/intermediate/customers/int_customers_activated.sql",
        "            <= {{ var('activation_window_days') }},",
        "            < {{ var('activation_window_days') }},",
        (f"{DBT_BUILD}::test_build_succeeds",),
    ),
    Break(
        "on time: delivery at the promised minute counted late",
        "dbt_project/macros/punctuality.sql",
        "{{ alias }}.delivered_at > {{ alias }}.promised_at)",
        "{{ alias }}.delivered_at >= {{ alias }}.promised_at)",
        (f"{DBT_BUILD}::test_build_succeeds",),
    ),
    Break(
        "revenue: placed orders counted as revenue",
        "dbt_project/dbt_project.yml",
        'revenue_statuses: ["paid", "shipped", "delivered"]',
        'revenue_statuses: ["placed", "paid", "shipped", "delivered"]',
        (f"{DBT_BUILD}::test_build_succeeds", f"{DBT_BUILD}::test_revenue_and_margin"),
    ),
    Break(
        "currency: lower-case codes kept lower-case",
        "dbt_project/models/staging/shop/stg_shop__orders.sql",
        "nullif(upper(trim(currency)), '')",
        "nullif(trim(currency), '')",
        (f"{DBT_BUILD}::test_currency_is_the_upper_case_code",),
    ),
    Break(
        "quarantine: the foreign-currency rule dropped",
        "orchestration/lib/ingest/rules.py",
        'if "currency" in feed.column_names:',
        'if "currency" in feed.column_names and False:',
        ("tests/unit/test_ingest.py",),
    ),
    Break(
        "publish: the new snapshot written over the published file in place",
        "orchestration/lib/publish.py",
        'tmp = target.with_name(f".{target.name}.{safe_run}.tmp")',
        "tmp = target",
        ("tests/unit/test_publish.py",),
    ),
    Break(
        "alerts: a failed delivery marked delivered (lost on a dead receiver)",
        "orchestration/lib/metric_alerts.py",
        "                if ok:\n",
        "                if True:\n",
        ("tests/unit/test_metric_alerts.py",),
    ),
    Break(
        "pii: survey questions published unscrubbed",
        "dbt_project/models/staging/survey/stg_survey__survey_answers.sql",
        "lower({{ scrub_contact_data('trim(question)') }}) as question",
        "lower(trim(question)) as question",
        ("tests/integration/test_pii_canaries.py",),
    ),
    Break(
        "deviation: cancelled orders no longer counted (the second method catches it)",
        "dbt_project/macros/punctuality.sql",
        "status in ('cancelled', 'returned')",
        "status in ('returned')",
        ("tests/integration/test_metrics_second_method.py::test_every_metric_at_every_grain",),
    ),
    Break(
        "semantic layer: CAC over the spend of every channel",
        "dbt_project/models/marts/semantic/_semantic__metrics.yml",
        "      numerator: paid_marketing_spend\n",
        "      numerator: marketing_spend\n",
        ("tests/unit/test_semantic_definitions.py",),
    ),
    Break(
        "semantic layer: duplicate leads counted",
        "dbt_project/models/marts/semantic/_semantic__metrics.yml",
        "      measure: leads\n    # as in the catalog: a day with only duplicates has no leads value (not 0)\n"
        "    filter: \"{{ Dimension('lead__is_duplicate') }} = false\"\n",
        "      measure: leads\n",
        ("tests/integration/test_semantic_layer.py::test_same_values_as_metric_values",),
    ),
]


def pytest(tests) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def run(brk: Break) -> tuple[bool, float]:
    path = ROOT / brk.path
    original = path.read_text()
    assert original.count(brk.old) == 1, f"{brk.path}: the line to break is not there once"
    path.write_text(original.replace(brk.old, brk.new))
    started = time.monotonic()
    try:
        proc = pytest(brk.tests)
    finally:
        path.write_text(original)
    return proc.returncode == 1, time.monotonic() - started  # 1 = tests ran and failed


def _terminated(signum, frame):
    raise KeyboardInterrupt  # unwinds through run()'s finally: the line goes back


def main(words: list[str]) -> int:
    chosen = [b for b in BREAKS if not words or any(w in b.name for w in words)]
    paths = sorted({b.path for b in chosen})
    if subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *paths], cwd=ROOT).returncode:
        print(f"uncommitted changes in {', '.join(paths)}: commit or stash them first")
        return 2
    signal.signal(signal.SIGTERM, _terminated)
    # The same tests pass on the unbroken tree: a failure below is the break's doing.
    started = time.monotonic()
    baseline = pytest(sorted({t for b in chosen for t in b.tests}))
    if baseline.returncode != 0:
        print(baseline.stdout[-3000:])
        print("the tests fail without any break: fix that first")
        return 2
    print(f"unbroken: the {len(chosen)} breaks' tests pass ({time.monotonic() - started:.0f} s)")
    missed = 0
    for brk in chosen:
        caught, seconds = run(brk)
        missed += not caught
        verdict = "caught" if caught else "MISSED"
        print(f"{verdict:7} {seconds:6.0f} s  {brk.name}  ({', '.join(brk.tests)})", flush=True)
    print(f"{len(chosen) - missed} of {len(chosen)} breaks caught")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
