"""Great Expectations: the ephemeral context of a gate run, and the merging of
per-chunk row results into one result for Data Docs."""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.lib.alerts import scrub_pii
from orchestration.lib.quality.suites import SuiteSpec


class _Gx:
    """One ephemeral GX context per gate run: suites, a pandas datasource, Data Docs."""

    def __init__(self, spec: SuiteSpec, docs_dir: Path | None):
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.spec = spec
        self.ctx = gx.get_context(mode="ephemeral")
        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.docs_dir = docs_dir
        self.new_results: list = []
        if docs_dir is not None:
            docs_dir.mkdir(parents=True, exist_ok=True)
            # Results are kept as JSON beside the site so the index lists past runs too.
            self.ctx.add_store(
                "flywheel_results",
                {
                    "class_name": "ValidationResultsStore",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir.parent / "gx_validation_results"),
                    },
                },
            )
            self.ctx.variables.validation_results_store_name = "flywheel_results"
            self.ctx.add_data_docs_site(
                "flywheel",
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir),
                    },
                    # Each feed's gate has a context of its own: GX's index builder would
                    # delete the pages of the other feeds' suites (their links then 404).
                    "site_index_builder": {
                        "module_name": "orchestration.lib.data_docs",
                        "class_name": "KeepingSiteIndexBuilder",
                    },
                },
            )
        ds = self.ctx.data_sources.add_pandas("flywheel")
        self.batch_definition = ds.add_dataframe_asset(
            spec.feed
        ).add_batch_definition_whole_dataframe("frame")

    def suite(self, name: str, expectations: list[dict]):
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        suite = self.gx.ExpectationSuite(name=name, meta={"notes": self.spec.description})
        for e in expectations:
            meta = {k: e[k] for k in ("name", "description", "severity", "threshold") if k in e}
            suite.add_expectation_configuration(
                ExpectationConfiguration(
                    type=e["type"], kwargs=copy.deepcopy(e["kwargs"]), meta=meta
                )
            )
        return self.ctx.suites.add(suite)

    def validate(
        self, suite, df: pd.DataFrame, params: dict, index_columns: list[str], exclude_values=False
    ):
        from great_expectations.validator.v1_validator import Validator

        result_format: dict[str, Any] = {
            "result_format": "COMPLETE",
            "partial_unexpected_count": 20,
            "exclude_unexpected_values": exclude_values,
        }
        if index_columns:
            result_format["unexpected_index_column_names"] = index_columns
        # The validator Batch.validate builds, made directly: Batch.validate loads (and
        # fingerprints) the frame twice, which costs ~1 s per million rows.
        validator = Validator(
            batch_definition=self.batch_definition,
            batch_parameters={"dataframe": df},
            result_format=result_format,
        )
        return validator.validate_expectation_suite(suite, expectation_parameters=params)

    def store(self, result, run_id: str, batch_label: str, now: dt.datetime) -> None:
        if self.docs_dir is None:
            return
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        key = ValidationResultIdentifier(
            ExpectationSuiteIdentifier(name=result.suite_name),
            RunIdentifier(run_name=run_id, run_time=now.replace(tzinfo=dt.UTC)),
            batch_label.replace(" ", "_").replace("/", "_"),
        )
        self.ctx.validation_results_store.set(key, result)
        self.new_results.append(key)

    def build_docs(self) -> str | None:
        """Render this run's results and the suites into the site, then its index.

        Only the new pages are rendered: rendering every stored result again
        would make each run slower than the last as results accumulate.
        """
        if self.docs_dir is None:
            return None
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        suites = [ExpectationSuiteIdentifier(name=s.name) for s in self.ctx.suites.all()]
        started = time.time() - 1  # file times may be rounded to the second
        urls = self.ctx.build_data_docs(
            site_names=["flywheel"], resource_identifiers=suites + self.new_results
        )
        from orchestration.lib import data_docs  # imports GX: only when docs are built

        data_docs.localise(self.docs_dir, since=started)  # offline: shipped CSS/JS, no CDN
        return urls.get("flywheel")


def _plain(value: Any) -> Any:
    """GX result values -> JSON-able, PII-scrubbed values for Data Docs and details."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return None if pd.isna(value) else value.isoformat(sep=" ")
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return str(value)
        return _plain(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, str):
        return scrub_pii(value)
    return value


class _RowMerger:
    """Merges per-chunk validation results into one result for the whole batch.

    Counts are summed; partial unexpected lists keep the first values seen;
    the full index lists are consumed (they become verdicts) and dropped.
    """

    def __init__(self) -> None:
        self.first = None
        self.counts: list[dict[str, Any]] = []

    def add(self, result, samples: dict[str, list] | None = None) -> None:
        if self.first is None:
            self.first = result
            self.counts = [
                {
                    "element_count": 0,
                    "unexpected_count": 0,
                    "missing_count": 0,
                    "partial": [],
                    "success": True,
                }
                for _ in result.results
            ]
        for acc, er in zip(self.counts, result.results, strict=True):
            r = er.result or {}
            acc["element_count"] += int(r.get("element_count") or 0)
            acc["unexpected_count"] += int(r.get("unexpected_count") or 0)
            acc["missing_count"] += int(r.get("missing_count") or 0)
            acc["success"] = acc["success"] and bool(er.success)
            room = 20 - len(acc["partial"])
            name = er.expectation_config.meta.get("name")
            sample = (samples or {}).get(name) or list(r.get("partial_unexpected_list") or [])
            if room > 0:
                acc["partial"].extend(_plain(sample[:room]))

    def merged(self):
        if self.first is None:
            return None
        result = self.first
        ok = 0
        for acc, er in zip(self.counts, result.results, strict=True):
            n, u, m = acc["element_count"], acc["unexpected_count"], acc["missing_count"]
            nonmissing = n - m
            mostly = (er.expectation_config.kwargs or {}).get("mostly")
            pct_nonmissing = 100.0 * u / nonmissing if nonmissing else 0.0
            success = (u == 0) if not mostly else pct_nonmissing <= 100.0 * (1 - mostly)
            if "unexpected_count" not in (er.result or {}):
                success = acc["success"]
            er.success = success
            er.result = {
                "element_count": n,
                "unexpected_count": u,
                "unexpected_percent": 100.0 * u / n if n else 0.0,
                "missing_count": m,
                "missing_percent": 100.0 * m / n if n else 0.0,
                "unexpected_percent_nonmissing": pct_nonmissing,
                "partial_unexpected_list": acc["partial"],
            }
            ok += int(success)
        total = len(result.results)
        result.success = ok == total
        result.statistics = {
            "evaluated_expectations": total,
            "successful_expectations": ok,
            "unsuccessful_expectations": total - ok,
            "success_percent": 100.0 * ok / total if total else 100.0,
        }
        return result
