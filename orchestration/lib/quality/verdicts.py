"""Row expectations: the frame streamed in chunks through the row suite, the failing
rows turned into flags, and the flags written as verdicts (quality.lead_verdicts,
quality.row_verdicts)."""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

import duckdb
import pandas as pd

from orchestration.lib.alerts import scrub_pii
from orchestration.lib.quality.frames import FRAME_SQL, _batch_cte
from orchestration.lib.quality.gx_runner import _Gx, _RowMerger
from orchestration.lib.quality.suites import SuiteSpec


def _validate_rows(
    con: duckdb.DuckDBPyConnection,
    gxr: _Gx,
    spec: SuiteSpec,
    params: dict,
    wm: int,
) -> tuple[pd.DataFrame, Any, int]:
    """Stream the frame in chunks through the row suite; return flags, merged result, rows."""
    suite = gxr.suite(f"{spec.checkpoint}.rows", spec.row_expectations)
    by_name = {e["name"]: e for e in spec.row_expectations}
    sql_params: dict[str, Any] = {"wm": wm}
    if spec.feed == "leads":
        sql_params["window_days"] = int(spec.threshold("duplicate_window_days"))
    chunk_rows = int(spec.thresholds.get("chunk_rows", 1_000_000))
    reader = con.sql(FRAME_SQL[spec.feed](), params=sql_params).to_arrow_reader(chunk_rows)
    merger = _RowMerger()
    flags: list[pd.DataFrame] = []
    rows = 0
    for record_batch in reader:
        df = record_batch.to_pandas()
        if df.empty:
            continue
        rows += len(df)
        # GX compares datetimes vectorised only at ns precision (us falls back to a Python map).
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                df[col] = df[col].astype("datetime64[ns]")
        # A named index + exclude_unexpected_values: GX returns the failing row keys as one
        # list per expectation, cheap even when many rows fail.
        df = df.set_index("_k")
        result = gxr.validate(suite, df, params, ["_k"], exclude_values=True)
        samples: dict[str, list] = {}
        for er in result.results:
            name = er.expectation_config.meta.get("name") or er.expectation_config.type
            keys: list[int] = []
            for entry in (er.result or {}).get("unexpected_index_list") or []:
                keys.extend(entry.get("_k", []) if isinstance(entry, dict) else [entry])
            if keys:
                failing = df.loc[keys]
                flags.append(_flag_rows(failing, name, by_name.get(name, {}), spec))
                samples[name] = _sample_values(failing, er.expectation_config.kwargs)
        merger.add(result, samples)
        del df, result
    cols = ["_k", "expectation", "is_duplicate", "duplicate_of", "details"]
    flag_df = pd.concat(flags, ignore_index=True) if flags else pd.DataFrame(columns=cols)
    flag_df = flag_df[cols].astype({"_k": "int64", "is_duplicate": "bool"})
    return flag_df, merger.merged(), rows


def _sample_values(failing: pd.DataFrame, kwargs: dict) -> list:
    """Up to 20 failing values of the expectation's column(s), for Data Docs (no PII columns
    exist in the frame; strings are scrubbed again by _plain)."""
    head = failing.head(20)
    if "column" in kwargs and kwargs["column"] in head:
        return list(head[kwargs["column"]])
    if "column_A" in kwargs:
        return [
            list(p) for p in zip(head[kwargs["column_A"]], head[kwargs["column_B"]], strict=True)
        ]
    return []


def _render(template: str, rows: pd.DataFrame, extra: dict[str, Any]) -> pd.Series:
    """Vectorised str.format of a details template over the failing rows.

    String values from the data are scrubbed of anything that looks like
    contact data (they should hold codes and ids only).
    """
    out = pd.Series("", index=rows.index, dtype=object)
    for literal, field_name, _spec, _conv in string.Formatter().parse(template):
        out = out + literal
        if field_name is None:
            continue
        if field_name in rows.columns:
            col = rows[field_name]
            if pd.api.types.is_datetime64_any_dtype(col):
                text = col.dt.strftime("%Y-%m-%d %H:%M:%S")
            else:
                text = col.astype(object).where(col.notna(), None)
                uniques = {v: scrub_pii(str(v)) for v in pd.unique(text.dropna())}
                text = text.map(uniques)
            out = out + text.fillna("null").astype(str)
        elif field_name in extra:
            out = out + str(extra[field_name])
        else:
            out = out + "?"
    return out


def _flag_rows(failing: pd.DataFrame, name: str, spec_e: dict, spec: SuiteSpec) -> pd.DataFrame:
    is_dup = bool(spec_e.get("duplicate", False))
    extra = {k: (int(v) if float(v).is_integer() else v) for k, v in spec.thresholds.items()}
    rows = failing.reset_index()
    return pd.DataFrame(
        {
            "_k": rows["_k"].to_numpy(),
            "expectation": name,
            "is_duplicate": is_dup,
            "duplicate_of": rows["duplicate_of"].to_numpy()
            if is_dup and "duplicate_of" in rows
            else None,
            "details": _render(spec_e.get("details", name), rows, extra).to_numpy(),
        }
    )


def _write_verdicts(
    con: duckdb.DuckDBPyConnection, spec: SuiteSpec, run_id: str, now: dt.datetime, wm: int
) -> None:
    feed, key = spec.feed, spec.key
    batch = _batch_cte(feed)
    blank = (
        f"coalesce(cast(r.{key} as varchar), '(blank: file ' || r._file_id || ' line ' "
        "|| coalesce(cast(r._line as varchar), '?') || ')')"
    )
    if feed == "leads":
        # A reloaded lead is judged afresh: its old verdicts go.
        con.execute(
            f"with {batch} delete from quality.lead_verdicts where lead_id in (select lead_id from batch)",
            {"wm": wm},
        )
        con.execute(
            f"""insert into quality.lead_verdicts
                (lead_id, expectation, is_duplicate, duplicate_of, details, checked_at)
            select {blank}, f.expectation, f.is_duplicate, f.duplicate_of, f.details, $now
            from _gate_flags as f
            join raw.leads as r on r.rowid = f._k""",
            {"now": now},
        )
    else:
        con.execute(
            f"with {batch} delete from quality.row_verdicts where feed = $feed and record_key in (select cast({key} as varchar) from batch)",
            {"wm": wm, "feed": feed},
        )
        con.execute(
            f"""insert into quality.row_verdicts
                (feed, record_key, expectation, details, run_id, checked_at)
            select $feed, {blank}, f.expectation, f.details, $run_id, $now
            from _gate_flags as f
            join raw.{feed} as r on r.rowid = f._k""",
            {"feed": feed, "run_id": run_id, "now": now},
        )
