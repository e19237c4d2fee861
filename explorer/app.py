"""The explorer's entry point: `make explore` (streamlit run explorer/app.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts this file's folder on sys.path, not the project root.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from explorer import common  # noqa: E402
from explorer.views import channels, cx, status, tree, why  # noqa: E402

PAGES = [
    st.Page(tree.render, title="Tree", url_path="tree", default=True),
    st.Page(why.render, title="Why did it move", url_path="why"),
    st.Page(channels.render, title="Channels", url_path="channels"),
    st.Page(cx.render, title="Customer experience", url_path="cx"),
    st.Page(status.render, title="Data status", url_path="status"),
]

st.set_page_config(page_title="Flywheel explorer", layout="wide")
try:
    st.navigation(PAGES).run()
finally:
    common.close_snapshots()  # a page reads one snapshot file; the next render the newest
