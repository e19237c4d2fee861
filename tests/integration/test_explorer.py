"""The explorer and the monthly report on a snapshot the real pipeline published (the
session's generated world: 3,000 orders to 2026-10-31).

Pages run in Streamlit's AppTest (the page code, headless) and, as a person sees them, in
headless Chromium against `make explore`. Every number is checked against the mart row it
comes from, read here with plain SQL; the waterfall against the metric's own change
(value - previous_value of metric_values); quarantine counts against the generator's
manifest; store ranks against the small-sample rule (30 respondents, dbt var).
"""

from __future__ import annotations

import collections
import os
import re
import shutil
from datetime import date

import dagster as dg
import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from orchestration.definitions import defs
from orchestration.lib.contact_data import contains_contact_data
from tests.integration.pipeline_helpers import free_port
from tests.integration.test_ui_in_browser import ARTIFACTS, make_target, wait_http

# END_DATE is 2026-10-31, the as-of date (the newest event's day): a period counts as
# complete when it ended before it, so October is not and September is the last complete.
MONTH = date(2026, 9, 1)
MIN_RESPONDENTS = 30  # dbt_project.yml, var cx_min_respondents
NODE = re.compile(r'data-metric="([a-z_]+)" data-verdict="([a-z]+)" data-value="([^"]*)"')


@pytest.fixture(scope="module")
def world(published_world):
    """The shared published test world (conftest), with this month's report written."""
    with pytest.MonkeyPatch.context() as mp:
        for k, v in published_world.env.items():
            mp.setenv(k, v)
        report = defs.resolve_job_def("monthly_report_job").execute_in_process(
            instance=dg.DagsterInstance.ephemeral()
        )
        assert report.success
        yield published_world.settings, published_world.manifest, published_world.env


@pytest.fixture(scope="module")
def marts(world):
    settings, _, _ = world
    con = duckdb.connect(str(settings.published_path), read_only=True)
    yield con
    con.close()


def metric_row(con, metric: str, period: date = MONTH, grain: str = "month") -> dict | None:
    cur = con.execute(
        "select value, previous_value, change, is_complete from marts.metric_values"
        " where metric = ? and grain = ? and period_start = ? and dimension = 'all'",
        [metric, grain, period],
    )
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def page(name: str, **params) -> AppTest:
    at = AppTest.from_string(
        f"from explorer.views import {name}\n{name}.render()", default_timeout=120
    )
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def markdown_with(at: AppTest, marker: str) -> str:
    (found,) = [m.value for m in at.markdown if marker in m.value]
    return found


def test_tree_page_shows_every_metric_as_its_mart_row(world, marts):
    at = page("tree")
    (newest_complete,) = marts.execute(
        "select max(period_start) from marts.metric_values where metric = 'contribution_margin'"
        " and grain = 'month' and dimension = 'all' and is_complete"
    ).fetchone()
    assert newest_complete == MONTH
    assert any("September 2026" in m.value for m in at.markdown)  # opens on it
    nodes = {m: (v, val) for m, v, val in NODE.findall(markdown_with(at, 'class="metric-tree"'))}
    tree = marts.execute("select metric, direction from marts.metric_tree").fetchall()
    assert set(nodes) == {m for m, _ in tree}
    for metric, direction in tree:
        row = metric_row(marts, metric)
        verdict, shown = nodes[metric]
        if row is None or row["value"] is None:
            assert shown == "" and verdict == "none", metric
            continue
        assert float(shown) == row["value"], metric
        change = row["change"]
        good = change is not None and change != 0 and (change > 0) == (direction == "higher")
        bad = change is not None and change != 0 and not good
        assert verdict == ("good" if good else "bad" if bad else "flat"), metric
    revenue = metric_row(marts, "revenue")["value"]
    assert f"{revenue / 1e6:,.2f}M RUB" in markdown_with(at, 'class="metric-tree"')


def test_why_page_waterfall_adds_up_to_the_change(world, marts):
    at = page("why", metric="revenue", grain="month", period=f"{MONTH}")
    picture = markdown_with(at, 'class="waterfall"')
    steps = [float(a) for a in re.findall(r'class="step" data-amount="([^"]+)"', picture)]
    (total,) = [float(a) for a in re.findall(r'class="total" data-amount="([^"]+)"', picture)]
    row = metric_row(marts, "revenue")
    change = row["value"] - row["previous_value"]
    # revenue = aov x orders per paying customer x paying customers: three factors
    factors = marts.execute(
        "select count(*) from marts.metric_tree where parent = 'revenue' and relation = 'factor'"
    ).fetchone()[0]
    assert len(steps) == factors == 3
    assert abs(total - change) <= 1e-6 * abs(change)
    assert abs(sum(steps) - change) <= 1e-6 * abs(change)
    text = " ".join(m.value for m in at.markdown)
    assert "paying customers" in text and "of the revenue change" in text
    assert not at.info  # September is complete: no banner
    # October ends on the as-of date: incomplete, and the page says so
    october = page("why", metric="revenue", grain="month", period="2026-10-01")
    assert metric_row(marts, "revenue", date(2026, 10, 1))["is_complete"] is False
    assert any("not complete" in i.value for i in october.info)


def test_cx_page_leaves_small_samples_unranked(world, marts):
    at = page("cx", period=f"{MONTH}")
    stores = at.dataframe[0].value
    rating = marts.execute(
        "select store_id, nps_respondents, nps_rank from marts.store_rating where month = ?",
        [MONTH],
    ).fetchall()
    assert len(stores) == len(rating) > 0
    shown = dict(zip(stores["store"].str.split(" ").str[0], stores["NPS rank"], strict=True))
    ranked = sum(1 for _, n, _ in rating if n >= MIN_RESPONDENTS)
    for store, respondents, rank in rating:
        if respondents < MIN_RESPONDENTS:
            assert shown[store] == "not ranked (small sample)", store
        else:
            assert shown[store].startswith(f"#{rank} of {ranked}"), store


def test_channels_mark_each_value_by_its_own_window(world, marts):
    at = page("channels", period=f"{MONTH}")
    table = at.dataframe[0].value
    flags = marts.execute(
        "select dimension_value, metric, is_complete from marts.metric_values where grain = 'month'"
        " and period_start = ? and dimension = 'channel' and metric in ('leads', 'cac', 'roas')",
        [MONTH],
    ).fetchall()
    totals = table[table["campaign"] == "(channel total)"].set_index("channel")
    mixed_rows = collections.defaultdict(set)
    for channel, metric, complete in flags:
        cell = totals.loc[channel, {"leads": "Leads", "cac": "CAC", "roas": "ROAS"}[metric]]
        if cell == "n/a" or cell == "":
            continue
        assert ("*" in cell) == (not complete), (channel, metric, cell)
        mixed_rows[channel].add(complete)
    # September's leads are counted (final) while its CAC and ROAS windows are still open
    assert any(v == {True, False} for v in mixed_rows.values())


def test_data_status_counts_quarantine_as_planted(world):
    _, manifest, _ = world
    at = page("status")
    shown = at.dataframe[2].value
    planted = collections.Counter((b["feed"], b["rule"]) for b in manifest["bad_rows"])
    got = {(r.feed, r.rule): r.quarantined_rows for r in shown.itertuples()}
    assert got == dict(planted)
    checks = at.dataframe[1].value
    assert {"orders", "leads", "survey_answers"} <= set(checks["feed"])


def test_no_page_shows_contact_data_or_the_callback_list(world):
    settings, _, _ = world
    text = []
    for name, params in (
        ("tree", {}),
        ("why", {"metric": "nps"}),
        ("channels", {}),
        ("cx", {}),
        ("status", {}),
    ):
        at = page(name, **params)
        text += [m.value for m in at.markdown] + [c.value for c in at.caption]
        text += [e.value for e in (*at.warning, *at.error, *at.info, *at.success)]
        text += [d.value.to_csv() for d in at.dataframe]
    blob = "\n".join(text)
    con = duckdb.connect(str(settings.restricted_path), read_only=True)
    contacts = con.execute(
        "select email, phone, loyalty_card_id from restricted.restricted.callback_list"
    ).fetchall()
    con.close()
    assert contacts, "the callback list is empty: the test would prove nothing"
    for row in contacts:
        for value in row:
            assert not value or value not in blob
    assert not any(contains_contact_data(line) for line in blob.splitlines())


def snapshot_copy(world, tmp_path, *sql: str):
    """A copy of the published snapshot with `sql` applied, for pages to read."""
    settings, _, _ = world
    copy = tmp_path / "snapshot.duckdb"
    shutil.copy(settings.published_path, copy)
    con = duckdb.connect(str(copy))
    for statement in sql:
        con.execute(statement)
    con.close()
    return copy


HOSTILE = (
    "![x](https://evil.example/p.png) <img src=x onerror=alert(1)> [link](http://evil.example)"
)


def test_hostile_mart_text_stays_text_on_pages_and_in_the_report(world, tmp_path, monkeypatch):
    # Customer-controlled names reach sentences and messages (a campaign, a store name):
    # put markdown and HTML where they would land.
    copy = snapshot_copy(
        world,
        tmp_path,
        f"update marts.metric_contributions set sentence = '{HOSTILE}' where parent_metric = 'revenue'",
        f"update marts.metric_change_explanations set sentence = '{HOSTILE}' where metric = 'revenue'",
        f"update marts.publish_info set is_stale = true, stale_message = '{HOSTILE}'",
    )
    monkeypatch.setenv("FLYWHEEL_EXPLORER_SNAPSHOT", str(copy))
    why = page("why", metric="revenue", grain="month", period=f"{MONTH}")
    status = page("status")
    shown = [m.value for m in why.markdown] + [w.value for w in status.warning]
    hits = [v for v in shown if "evil" in v]
    assert len(hits) >= 3  # contributions, segments, stale messages
    for v in hits:
        assert not re.search(r"(?<!\\)(!\[|\]\(|<img)", v), v  # each one escaped
    from explorer import report
    from explorer.snapshot import Snapshot

    with Snapshot.open(copy) as snap:
        html = report.build(snap, MONTH, "RUB")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_shop_without_ad_spend_still_gets_every_page_and_the_report(world, tmp_path, monkeypatch):
    # No marketing_spend feed: contribution margin (the root) and the spend metrics have
    # no values; the pages open on the highest metric that has them (gross margin).
    copy = snapshot_copy(
        world,
        tmp_path,
        "delete from marts.metric_values where metric in (select metric from marts.metric_tree"
        " where requires_feeds like '%marketing_spend%')",
    )
    monkeypatch.setenv("FLYWHEEL_EXPLORER_SNAPSHOT", str(copy))
    tree = page("tree")
    assert any("September 2026" in m.value for m in tree.markdown)
    assert 'data-metric="contribution_margin" data-verdict="none"' in markdown_with(
        tree, 'class="metric-tree"'
    )
    for name in ("why", "channels", "cx", "status"):
        page(name)
    from explorer import report
    from explorer.snapshot import Snapshot

    with Snapshot.open(copy) as snap:
        assert "Flywheel monthly report: September 2026" in report.build(snap, MONTH, "RUB")


# --- as a person sees it ----------------------------------------------------------


def test_explorer_in_the_browser(world, marts, browser_page):
    settings, _, env = world
    p, outside = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    with make_target("explore", {**os.environ, **env}, EXPLORE_PORT=port):
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/_stcore/health")
        p.goto(base)
        revenue = p.locator('.metric-tree g.node[data-metric="revenue"]')
        revenue.wait_for(timeout=120_000)
        assert float(revenue.get_attribute("data-value")) == metric_row(marts, "revenue")["value"]
        p.screenshot(path=str(ARTIFACTS / "explorer_tree.png"))

        revenue.click()  # the node links to the Why page of the same period
        p.locator(".waterfall g.total").wait_for(timeout=60_000)
        steps = [
            float(a)
            for a in p.locator(".waterfall g.step").evaluate_all(
                "els => els.map(e => e.getAttribute('data-amount'))"
            )
        ]
        row = metric_row(marts, "revenue")
        assert abs(sum(steps) - (row["value"] - row["previous_value"])) <= 1e-6 * row["value"]
        p.get_by_text("Why did Revenue move?").wait_for()
        p.screenshot(path=str(ARTIFACTS / "explorer_why.png"), full_page=True)

        for path, text in (
            ("channels", "Channels"),
            ("cx", "Customer experience"),
            ("status", "Data status"),
        ):
            p.goto(f"{base}/{path}")
            p.get_by_role("heading", name=text).wait_for(timeout=60_000)
            p.wait_for_timeout(1500)  # the data grid draws on a canvas after the heading
            p.screenshot(path=str(ARTIFACTS / f"explorer_{path}.png"), full_page=True)

        # A publish while the explorer runs: the file is replaced by a rename, as publish
        # does; a reload shows the new snapshot (its run id), nothing breaks meanwhile.
        published = settings.published_path
        new = published.with_name("swap.duckdb")
        shutil.copy(published, new)
        con = duckdb.connect(str(new))
        con.execute("update marts.publish_info set run_id = 'a-new-run-0000'")
        con.close()
        os.replace(new, published)
        p.goto(f"{base}/status")
        p.get_by_text("a-new-run-0000").first.wait_for(timeout=60_000)
    assert outside == []


def test_monthly_report_opens_offline(world, marts, browser_page):
    settings, _, _ = world
    p, outside = browser_page
    report = settings.published_path.parent / "reports" / "flywheel-report-2026-09.html"
    assert report.exists(), sorted(report.parent.glob("*"))
    p.goto(report.as_uri())
    p.get_by_text("Flywheel monthly report: September 2026").wait_for(timeout=30_000)
    node = p.locator('g.node[data-metric="contribution_margin"]')
    assert (
        float(node.get_attribute("data-value")) == metric_row(marts, "contribution_margin")["value"]
    )
    assert p.locator(".waterfall, svg[aria-label=waterfall]").count() >= 1
    p.screenshot(path=str(ARTIFACTS / "monthly_report.png"), full_page=False)
    assert outside == []
