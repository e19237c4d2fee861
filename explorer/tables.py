"""The tables a person reads (channels, stores), as display strings from mart rows: the
same table on a page of the explorer and in the monthly report."""

from __future__ import annotations

import pandas as pd

from explorer import fmt, model

NOT_FINAL, SMALL = "*", "°"


def channel_table(long: pd.DataFrame, units: dict[str, str], cur: str) -> pd.DataFrame:
    """One row per channel (its total) followed by its campaigns; cells are display strings."""
    rows = []
    for (channel, campaign), g in long.groupby(["channel", "campaign"], dropna=False, sort=True):
        row = {"channel": channel, "campaign": "(channel total)" if pd.isna(campaign) else campaign}
        for r in g.itertuples():
            text = fmt.value(r.value, units.get(r.metric, ""), cur)
            if not fmt.missing(r.value):
                text += (NOT_FINAL if fmt.is_false(r.is_complete) else "") + (
                    SMALL if fmt.is_true(r.is_small_sample) else ""
                )
            row[r.metric] = text
        rows.append(row)
    table = pd.DataFrame(rows)
    metrics = [m for m in model.CHANNEL_METRICS if m in table.columns]
    table["_order"] = table["campaign"] != "(channel total)"
    table = table.sort_values(["channel", "_order", "campaign"]).drop(columns="_order")
    return table[["channel", "campaign", *metrics]].fillna("")


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def rank_text(rank, change, small, ranked: int) -> str:
    """'#2 of 5 (+1)': rank among the stores ranked that month, and its change."""
    if fmt.is_true(small) or fmt.missing(rank):
        return "not ranked (small sample)"
    text = f"#{int(rank)} of {ranked}"
    if not fmt.missing(change) and change != 0:
        # rank_change > 0: moved up (previous rank minus this one: marts.store_rating)
        text += f" ({'+' if change > 0 else ''}{int(change)})"
    return text


def store_table(df: pd.DataFrame) -> pd.DataFrame:
    """marts.store_rating rows (with CSAT) as a person reads them; small samples unranked."""

    def ranks(score: str) -> list[str]:
        ranked = int(df[f"{score}_rank"].notna().sum())
        cols = (df[f"{score}_rank"], df[f"{score}_rank_change"], df[f"{score}_is_small_sample"])
        return [rank_text(r, c, s, ranked) for r, c, s in zip(*cols, strict=True)]

    return pd.DataFrame(
        {
            "store": df["store_id"] + " " + df["store_name"].fillna(""),
            "region": df["region"],
            "NPS": [fmt.value(v, "score", "") for v in df["nps"]],
            "NPS respondents": df["nps_respondents"],
            "NPS rank": ranks("nps"),
            "CSI": [fmt.value(v, "score", "") for v in df["csi"]],
            "CSI respondents": df["csi_respondents"],
            "CSI rank": ranks("csi"),
            "CSAT": [fmt.value(v, "ratio", "") for v in df["csat"]],
            "CSAT answers": df["csat_respondents"],
        }
    )
