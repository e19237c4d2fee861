"""What the Dagster UI shows about each definition: a description a person can read."""

import re

from orchestration.definitions import defs
from orchestration.defs.transform import describe_dbt_test


def test_every_asset_sensor_schedule_and_check_is_described_without_sql():
    repo = defs.get_repository_def()
    for d in [*repo.sensor_defs, *repo.schedule_defs]:
        assert d.description, d.name
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_external:
            continue
        text = node.description or ""
        assert text, key.to_user_string()
        assert not re.search(r"\bselect\b.+\bfrom\b|Raw SQL", text, re.I | re.S), key
    for check in graph.asset_check_keys:
        assert graph.get_check_spec(check).description, check


def test_dbt_tests_are_described_by_what_they_assert():
    # written by hand from dbt's manifest shape for each kind of test
    assert (
        describe_dbt_test(
            {"test_metadata": {"name": "not_null", "kwargs": {"column_name": "order_id"}}}
        )
        == "order_id is never null."
    )
    assert (
        describe_dbt_test(
            {
                "test_metadata": {
                    "name": "relationships",
                    "kwargs": {
                        "column_name": "customer_id",
                        "to": "ref('dim_customers')",
                        "field": "customer_id",
                    },
                },
                "config": {"severity": "warn"},
            }
        )
        == "Every customer_id is a customer_id of dim_customers (a warning, not a failure)."
    )
    assert (
        describe_dbt_test(
            {"name": "assert_x", "raw_code": "-- Shares sum to 1\n-- per parent.\nselect 1"}
        )
        == "Shares sum to 1 per parent."
    )
