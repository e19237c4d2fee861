"""Batch expectations: per-group, freshness and group x month frames, their
validation, and the message each rule outcome carries."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from orchestration.lib.quality.frames import _batch_cte
from orchestration.lib.quality.gx_runner import _Gx, _plain
from orchestration.lib.quality.results import RuleOutcome
from orchestration.lib.quality.suites import BLOCKING, TIMESTAMP_COLUMNS, SuiteSpec


def _frame_by_group(con, spec: SuiteSpec, wm: int) -> pd.DataFrame:
    g = spec.group_column
    min_rows = int(spec.thresholds.get("min_rows_for_share", 0))
    df = con.execute(
        f"""
        with {_batch_cte(spec.feed)},
        f as (
            select _k, bool_or(not is_duplicate) as invalid, bool_or(is_duplicate) as dup
            from _gate_flags group by _k
        ),
        per as (
            select coalesce(cast(b.{g} as varchar), '(blank)') as grp,
                   count(*) as n,
                   count(*) filter (where f.invalid) as n_invalid,
                   count(*) filter (where f.dup) as n_dup
            from batch as b left join f using (_k)
            group by all
        )
        select grp as {g}, n, n_invalid, n_dup from per
        union all
        select 'all', sum(n), sum(n_invalid), sum(n_dup) from per having count(*) > 0
        """,
        {"wm": wm},
    ).df()
    df["n"] = df["n"].astype("int64")
    share_ok = (df["n"] >= min_rows) | (df[g] == "all")
    df["invalid_share"] = (df["n_invalid"] / df["n"]).where(share_ok)
    df["duplicate_share"] = (df["n_dup"] / df["n"]).where(share_ok)
    return df


def _frame_freshness(con, spec: SuiteSpec, now: dt.datetime, per_group: bool) -> pd.DataFrame:
    g, ts = spec.group_column, TIMESTAMP_COLUMNS[spec.feed]
    latest = now + dt.timedelta(minutes=spec.thresholds.get("future_skew_minutes", 0))
    group_expr = f"coalesce(cast({g} as varchar), '(blank)')" if per_group else "'all'"
    df = con.execute(
        f"""
        select {group_expr} as {g}, count(*) as n,
               date_diff('second', max({ts}), $now) / 3600.0 as hours_since_newest
        from raw.{spec.feed}
        where {ts} <= $latest
        group by all
        """,
        {"now": now, "latest": latest},
    ).df()
    if per_group and "trailing_months" in spec.thresholds:
        # Only channels active within the trailing window: an ended campaign is not stale.
        active_hours = spec.threshold("trailing_months") * 31 * 24
        df = df[df["hours_since_newest"] <= active_hours]
    return df.reset_index(drop=True)


def _frame_by_group_month(con, spec: SuiteSpec, wm: int, now: dt.datetime) -> pd.DataFrame:
    """Leads per channel x month (clean: no quarantined leads, duplicates counted once)
    for the months in the batch, against the trailing months before each."""
    t = spec.thresholds
    k = int(t["trailing_months"])
    df = con.execute(
        f"""
        with {_batch_cte("leads")},
        clean as (
            select r.channel, date_trunc('month', r.created_at) as m, r.qualified_at is not null as q
            from raw.leads as r
            where r.created_at is not null and r.created_at <= $now
              and not exists (select 1 from quality.lead_verdicts as v where v.lead_id = r.lead_id)
        ),
        monthly as (
            select channel, m, count(*) as n, count(*) filter (where q) as nq from clean group by all
        ),
        targets as (
            select distinct channel, date_trunc('month', created_at) as m
            from batch where created_at is not null and created_at <= $now and channel is not null
        ),
        trail as (
            select t.channel, t.m, count(h.m) as k_found,
                   median(h.n) as trailing_leads, median(h.nq / h.n) as trailing_rate
            from targets as t
            left join monthly as h
              on h.channel = t.channel and h.m >= t.m - to_months($k::integer) and h.m < t.m
            group by all
        )
        select tr.channel, strftime(tr.m, '%Y-%m') as month,
               coalesce(c.n, 0) as leads, coalesce(c.nq, 0) as qualified,
               tr.k_found, tr.trailing_leads, tr.trailing_rate,
               case when tr.m = date_trunc('month', $now)
                    then epoch($now) - epoch(tr.m) else null end as open_seconds,
               epoch(tr.m + interval 1 month) - epoch(tr.m) as month_seconds
        from trail as tr
        left join monthly as c on c.channel = tr.channel and c.m = tr.m
        order by tr.channel, tr.m
        """,
        {"wm": wm, "now": now, "k": k},
    ).df()
    if df.empty:
        return pd.DataFrame(columns=["channel", "month", "qualification_ratio", "volume_ratio"])
    enough = df["k_found"] >= int(t["min_trailing_months"])
    is_open = df["open_seconds"].notna()
    fraction = (df["open_seconds"] / df["month_seconds"]).where(is_open, 1.0).astype(float)
    # Trailing values are medians of the previous months: robust to one odd month
    # (a past flood must not make the months after it look like a rebound).
    trailing_leads = df["trailing_leads"].astype(float)
    df["expected_leads"] = (trailing_leads * fraction).where(enough)
    # An open month is judged on volume only once a quarter of it has passed.
    df["volume_ratio"] = (df["leads"] / df["expected_leads"]).where(
        enough
        & (fraction >= 0.25)
        & (trailing_leads >= t.get("min_trailing_leads", 0))
        & (df["expected_leads"] > 0)
    )
    df["qualification_rate"] = (df["qualified"] / df["leads"]).where(df["leads"] > 0)
    df["trailing_rate"] = df["trailing_rate"].astype(float).where(enough)
    df["qualification_ratio"] = (df["qualification_rate"] / df["trailing_rate"]).where(
        ~is_open & (df["leads"] >= t["min_leads_for_rate"]) & (df["trailing_rate"] > 0)
    )
    return df.astype({"volume_ratio": "float64", "qualification_ratio": "float64"})


def _pct(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _message(
    spec: SuiteSpec,
    e: dict,
    row: pd.Series,
    batch: str,
    flagged: dict[str, int],
    params: dict,
    now: dt.datetime,
) -> tuple[str, float | None, float | None, float | None, int | None, str | None]:
    """(message, observed, threshold, reference, rows, month) for one frame row of a batch rule."""
    g = spec.group_column
    rule, frame = e["name"], e["frame"]
    grp = row.get(g, "all")
    thr = spec.thresholds.get(e.get("threshold", ""), None)
    top = ", ".join(f"{k} {v:,}" for k, v in sorted(flagged.items(), key=lambda kv: -kv[1])[:3])
    if frame == "by_group":
        col = e["kwargs"]["column"]
        obs = _num(row[col])
        count_col = "n_invalid" if col == "invalid_share" else "n_dup"
        kind = "failed a row expectation" if col == "invalid_share" else "are duplicates"
        msg = (
            f"{rule}: {g} {grp}, {batch}: {_pct(obs)} of {int(row['n']):,} rows {kind} "
            f"({int(row[count_col]):,}); threshold {_pct(thr)}"
        )
        if col == "invalid_share" and top:
            msg += f"; most failed: {top}"
        return msg, obs, thr, None, int(row["n"]), None
    if frame in ("freshness_all", "freshness_by_group"):
        obs = _num(row["hours_since_newest"])
        as_of = (
            (now - dt.timedelta(hours=obs)).strftime("%Y-%m-%d %H:%M") if obs is not None else "?"
        )
        verdict = "blocks the run" if e["severity"] == BLOCKING else "published anyway"
        msg = (
            f"{rule}: {g} {grp}: newest {spec.feed} row is {obs:,.1f} h old at check time "
            f"(data as of {as_of}); allowed {thr:,.0f} h: the source is stale, or this is a "
            f"first load of history ({verdict}; FLYWHEEL_ON_STALE=warn|block, docs/quality-gate.md)"
        )
        return msg, obs, thr, None, int(row["n"]), None
    if frame == "by_group_month":
        month = row["month"]
        if e["kwargs"]["column"] == "volume_ratio":
            obs, ref = _num(row["volume_ratio"]), _num(row["expected_leads"])
            msg = (
                f"{rule}: {g} {grp}, month {month}: {int(row['leads']):,} leads vs "
                f"{ref or 0:,.0f} expected from the median of the {int(row['k_found'])} months before "
                f"(x{obs:.2f}; allowed x{params['volume_ratio_min']:.2f}..x{params['volume_ratio_max']:.2f})"
            )
            return msg, obs, thr, ref, int(row["leads"]), month
        obs, ref = _num(row["qualification_ratio"]), _num(row["trailing_rate"])
        msg = (
            f"{rule}: {g} {grp}, month {month}: qualification rate {_pct(_num(row['qualification_rate']))} "
            f"of {int(row['leads']):,} leads vs {_pct(ref)} (median of the months before; x{obs:.2f}, allowed "
            f"x{params['qualification_ratio_min']:.2f}..x{params['qualification_ratio_max']:.2f})"
        )
        return msg, obs, thr, ref, int(row["leads"]), month
    return f"{rule}: {grp}", None, thr, None, None, None


def _validate_batch(
    con,
    gxr: _Gx,
    spec: SuiteSpec,
    params: dict,
    wm: int,
    now: dt.datetime,
    batch: str,
    flagged: dict[str, int],
    run_id: str,
    rows_checked: int,
) -> list[RuleOutcome]:
    g = spec.group_column
    outcomes: list[RuleOutcome] = []
    by_frame: dict[str, list[dict]] = {}
    for e in spec.batch_expectations:
        by_frame.setdefault(e["frame"], []).append(e)
    for frame_name, expectations in by_frame.items():
        if frame_name == "schema":
            cols = [r[0] for r in con.execute(f"describe raw.{spec.feed}").fetchall()]
            df = pd.DataFrame(columns=cols)
            index_cols: list[str] = []
        elif frame_name == "by_group":
            if rows_checked == 0:
                continue
            df = _frame_by_group(con, spec, wm)
            index_cols = [g]
        elif frame_name == "freshness_all":
            df = _frame_freshness(con, spec, now, per_group=False)
            index_cols = [g]
        elif frame_name == "freshness_by_group":
            df = _frame_freshness(con, spec, now, per_group=True)
            index_cols = [g]
        elif frame_name == "by_group_month":
            if rows_checked == 0:
                continue
            df = _frame_by_group_month(con, spec, wm, now)
            index_cols = [g, "month"]
        else:
            raise ValueError(f"{spec.path}: unknown frame {frame_name!r}")
        if df.empty and frame_name != "schema":
            continue
        suite = gxr.suite(f"{spec.checkpoint}.{frame_name}", expectations)
        result = gxr.validate(suite, df, params, index_cols)
        gxr.store(result, run_id, batch, now)
        by_name = {e["name"]: e for e in expectations}
        for er in result.results:
            e = by_name[er.expectation_config.meta["name"]]
            if frame_name == "schema":
                contract = set(params["contract_columns"])
                missing = sorted(contract - set(df.columns))
                unexpected = sorted(set(df.columns) - contract)
                msg = (
                    f"schema_drift: raw.{spec.feed} columns differ from the landing contract: "
                    f"missing {missing or 'none'}, unexpected {unexpected or 'none'}"
                )
                outcomes.append(
                    RuleOutcome(
                        e["name"],
                        e["severity"],
                        "all",
                        batch,
                        None,
                        float(len(missing) + len(unexpected)),
                        0.0,
                        bool(er.success),
                        msg,
                    )
                )
                continue
            failed = {
                tuple(_plain(entry.get(c)) for c in index_cols)
                for entry in (er.result or {}).get("unexpected_index_list") or []
            }
            col = e["kwargs"].get("column")
            for _, row in df.iterrows():
                if col is not None and _num(row.get(col)) is None:
                    continue  # not judged (too few rows or no trailing months)
                key = tuple(_plain(row[c]) for c in index_cols)
                msg, obs, thr, ref, n, month = _message(spec, e, row, batch, flagged, params, now)
                outcomes.append(
                    RuleOutcome(
                        e["name"],
                        e["severity"],
                        str(row.get(g, "all")),
                        batch,
                        month,
                        obs,
                        thr,
                        key not in failed,
                        msg,
                        ref,
                        n,
                    )
                )
    return outcomes
