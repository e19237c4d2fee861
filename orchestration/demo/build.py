"""The generator: one state shared by its steps, and generate(), the month loop."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from orchestration.demo.acquisition import _AcquisitionSteps
from orchestration.demo.manifest import MANIFEST_NAME, _manifest
from orchestration.demo.orders import _OrderSteps
from orchestration.demo.plan import _Customers, _make_plan, _Plan
from orchestration.demo.planted_files import write_planted_files
from orchestration.demo.plants import _PlantSteps
from orchestration.demo.story import _StorySteps
from orchestration.demo.world import COLLAPSE_MONTHS_BEFORE_END, FEED_STREAM, MAX_ORDERS, RESPONSE_P
from orchestration.demo.writers import _Landing


class _Generator(_AcquisitionSteps, _OrderSteps, _StorySteps, _PlantSteps):
    """The state the steps share: counters, pending rows, the rows captured for later plants.

    The steps are methods of one object because they hand state to each other
    (ids keep counting across months, rows spill into next month's files, plants
    reuse rows captured earlier); each group of steps is written in its own module.
    """

    def __init__(self, landing_dir: Path, plan: _Plan, plant: bool):
        self.plan = plan
        self.seed = plan.seed
        self.cm = _Customers(plan)
        self.out = _Landing(landing_dir)
        self.plant = plant
        self.store_response = RESPONSE_P  # generate(store_response=...) may raise it
        self.next_lead = 0
        self.next_order = 0
        self.next_answer = 0
        self.next_contact = 0
        self.pending: dict[str, list[tuple[np.ndarray, pa.Table]]] = {
            "survey_answers": [],
            "support_contacts": [],
        }
        self.tz_examples: list[dict] = []
        self.captured: dict[str, object] = {}
        m = plan.months
        self.inline_month = m // 2
        self.gz_month = 1 if m > 1 else 0
        self.jsonl_months = {0, 1} if m > 2 else {0}
        self.correction_month = max(m - 3, 0)
        self.resync_month = max(m - 2, 0)
        self.counts: Counter[str] = Counter()

    def rng(self, feed: str, m: int, part: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, FEED_STREAM[feed], m, part])


def generate(
    landing_dir: Path,
    orders: int = 20_000,
    seed: int = 42,
    end_date: date | None = None,
    months: int = 26,
    plant_bad_input: bool = True,
    progress: Callable[[str], None] | None = None,
    collapse_months_before_end: int = COLLAPSE_MONTHS_BEFORE_END,
    store_response: float = RESPONSE_P,
) -> dict:
    """Write a landing folder of demo data and return (and write) its manifest.

    The data spans `months` calendar months ending at `end_date` (default:
    yesterday, UTC), so the newest day is recent enough for freshness checks.
    Volumes scale with `orders`: customers ~orders/4, leads ~orders/2, items
    ~2.5, survey answers ~0.6 and support contacts ~0.05 per order. Meant for
    1,000 to 50,000,000 orders (below ~300 some months are too empty to hold
    every inline plant) and months >= 8 (the collapse sits
    `collapse_months_before_end` months before the end month, 5 by default;
    1 puts it in the last complete month, where the metric alerts look).
    `store_response` is the survey response rate of orders placed in or picked
    up at a store (receipt surveys; the others answer at RESPONSE_P): `make
    demo` raises it so that most stores reach the 30 answers a month a store
    ranking needs; the default keeps every other world as it was.
    Files are overwritten, not removed: give an empty folder (or use the
    CLI's --clean) when an earlier run used other parameters.
    """
    if not 1 <= orders <= MAX_ORDERS:
        raise ValueError(f"orders must be between 1 and {MAX_ORDERS:,}")
    if months < 1:
        raise ValueError("months must be at least 1")
    landing_dir = Path(landing_dir)
    end = end_date or (datetime.now(UTC).date() - timedelta(days=1))
    say = progress or (lambda _msg: None)
    plan = _make_plan(orders, seed, end, months, collapse_months_before_end)
    gen = _Generator(landing_dir, plan, plant_bad_input)
    gen.store_response = store_response
    landing_dir.mkdir(parents=True, exist_ok=True)
    for m in range(months):
        gen.customers_and_leads(m)
        gen.marketing_spend(m)
        gen.orders_month(m)
        say(
            f"{plan.labels[m]}: {gen.counts['orders']:,} orders, {gen.counts['leads']:,} leads so far"
        )
    if plant_bad_input:
        write_planted_files(gen)
        gen.file_plants()
        say("planted bad input")
    manifest = _manifest(gen)
    (landing_dir / MANIFEST_NAME).write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    return manifest
