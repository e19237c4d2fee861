"""What a person reads of a dbt build (orchestration.defs.transform.DbtOutput): a line per
quarter of the nodes, every warning and failure, dbt's summary; the rest is kept, in
order, for the run's debug log as one event."""

import io

from orchestration.defs.transform import DbtOutput


def test_progress_warnings_and_summary_shown_the_rest_kept_in_order():
    shown = io.StringIO()
    out = DbtOutput(shown)
    lines = ["Running with dbt=1.11.16", "Found 8 models, 0 seeds"]
    for i in range(1, 9):
        lines.append(f"{i} of 8 START sql table model main.m{i} ....... [RUN]")
        status = "WARN 2" if i == 6 else "OK"
        lines.append(f"{i} of 8 {status} created sql table model main.m{i} ....... [{status}]")
    lines.append("Done. PASS=7 WARN=1 ERROR=0 SKIP=0 TOTAL=8")
    # written in uneven pieces, as a pipe delivers them; the last line unterminated
    text = "\n".join(lines)
    for start in range(0, len(text), 37):
        out.write(text[start : start + 37])

    # By hand: 8 nodes; quarters are reached at nodes 2, 4, 6 and 8 (4 * done // 8).
    # Node 6 warned: its line is shown, then the progress line it completes.
    # The summary line is still in the buffer (no newline yet): not shown, kept.
    assert shown.getvalue().splitlines() == [
        "dbt build: 2 of 8 nodes done",
        "dbt build: 4 of 8 nodes done",
        "6 of 8 WARN 2 created sql table model main.m6 ....... [WARN 2]",
        "dbt build: 6 of 8 nodes done",
        "dbt build: 8 of 8 nodes done",
    ]
    kept = out.debug_text().splitlines()
    # everything not shown, in order: the two chatter lines, 8 START and 7 OK lines, and
    # the unterminated summary
    assert kept[:2] == lines[:2]
    assert kept[-1] == lines[-1]
    assert len(kept) == 2 + 8 + 7 + 1
    assert [k for k in kept if " WARN " in k] == []
