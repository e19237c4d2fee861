"""The metric registry as Python reads it, and the docs tables generated from it.

Every metric is declared once, in dbt_project/macros/metric_catalog.sql (macro
metric_catalog): its formula over the components, the model that computes it
when a ratio of components is not enough, and what people read about it
(section, description, formula text, dimensions). dbt reads the macro to build
the metrics; this module reads the same text so that docs/metrics.md's metric
tables and the semantic layer's check (orchestration.lib.semantic) agree with it.

    python -m orchestration.lib.metric_registry          # rewrite docs/metrics.md's tables
    python -m orchestration.lib.metric_registry --check  # exit 1 if they are stale
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "dbt_project"
DOCS = REPO / "docs" / "metrics.md"

# The docs/metrics.md sections, in the order the registry's `section` names them.
SECTIONS = ("business", "revenue", "growth", "awareness", "acquisition", "referral", "cx")
BEGIN = (
    "<!-- metric-registry:{section} (generated: python -m orchestration.lib.metric_registry) -->"
)
END = "<!-- /metric-registry -->"


def _macro_literal(text: str, macro: str):
    """The literal a macro returns (`{{ return(...) }}`); Jinja's true/false are Python's."""
    body = text[text.index(f"macro {macro}()") :]
    body = body[body.index("return(") + len("return(") : body.index(") }}")]
    return ast.literal_eval(re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", body)))


def read(project: Path = PROJECT) -> tuple[list[dict], set[str]]:
    """The registry's entries (in order) and the component columns they are built from."""
    text = (project / "macros" / "metric_catalog.sql").read_text()
    components = {c for names in _macro_literal(text, "metric_components").values() for c in names}
    return _macro_literal(text, "metric_catalog"), components


def catalog(project: Path = PROJECT) -> tuple[dict[str, dict], set[str]]:
    """The metrics computed as numerator / denominator of components ({metric: entry})."""
    entries, components = read(project)
    return {e["metric"]: e for e in entries if "numerator" in e}, components


def display_name(entry: dict) -> str:
    """retention_m{k} for a family, the metric's own name otherwise."""
    if "metric" in entry:
        return entry["metric"]
    return entry["metric_prefix"] + entry["suffix"]


def docs_table(entries: list[dict], section: str) -> str:
    """The markdown table of one docs section: metric, formula, dimensions."""
    rows = ["| metric | formula | dimensions |", "|---|---|---|"]
    for e in entries:
        if e["section"] == section:
            rows.append(f"| {display_name(e)} | {e['formula']} | {e['doc_dimensions']} |")
    return "\n".join(rows)


def render_docs(text: str, entries: list[dict]) -> str:
    """docs/metrics.md with every generated table replaced by the registry's."""
    unknown = sorted({e["section"] for e in entries} - set(SECTIONS))
    if unknown:
        raise ValueError(f"metric registry: unknown section(s) {unknown}; known: {SECTIONS}")
    for section in SECTIONS:
        begin = BEGIN.format(section=section)
        start = text.find(begin)
        if start < 0:
            raise ValueError(f"{DOCS.name}: no marker {begin!r} for section {section!r}")
        end = text.index(END, start)
        text = f"{text[:start]}{begin}\n{docs_table(entries, section)}\n{text[end:]}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/metrics.md is stale")
    args = parser.parse_args(argv)
    entries, _ = read()
    current = DOCS.read_text()
    wanted = render_docs(current, entries)
    if args.check:
        if wanted != current:
            print(
                f"{DOCS}: the metric tables differ from the registry"
                " (macros/metric_catalog.sql); run: python -m orchestration.lib.metric_registry",
                file=sys.stderr,
            )
            return 1
        return 0
    if wanted != current:
        DOCS.write_text(wanted)
        print(f"{DOCS}: metric tables rewritten from the registry")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
