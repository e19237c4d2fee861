"""The metric-tree explorer: a Streamlit app over the published snapshot (docs/explorer.md).

It reads only marts.* of the latest published snapshot, read-only, and computes no metric
of its own: every number on its pages is a value of a mart row.
"""
