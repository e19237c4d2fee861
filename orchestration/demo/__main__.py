"""Command line: python -m orchestration.demo --out landing/ --orders 20000."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from orchestration.demo.build import generate
from orchestration.demo.manifest import MANIFEST_NAME
from orchestration.lib.feeds import FEEDS


def _clean(landing_dir: Path) -> None:
    """Remove what a previous run wrote: the feed folders and the manifest, nothing else."""
    for feed in FEEDS:
        shutil.rmtree(landing_dir / feed, ignore_errors=True)
    (landing_dir / MANIFEST_NAME).unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.demo", description="Generate deterministic demo landing data."
    )
    parser.add_argument("--out", type=Path, required=True, help="landing directory to write")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=None,
        help="YYYY-MM-DD (default: yesterday UTC)",
    )
    parser.add_argument("--months", type=int, default=26)
    parser.add_argument(
        "--no-bad-input", action="store_true", help="do not plant bad rows and files"
    )
    parser.add_argument(
        "--clean", action="store_true", help="remove earlier feed folders and manifest first"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {msg}", flush=True)

    if args.clean:
        _clean(args.out)
    manifest = generate(
        args.out,
        orders=args.orders,
        seed=args.seed,
        end_date=args.end_date,
        months=args.months,
        plant_bad_input=not args.no_bad_input,
        progress=progress,
    )
    rows = Counter()
    files = Counter()
    for f in manifest["files"]:
        rows[f["feed"]] += f["data_rows"]
        files[f["feed"]] += 1
    print(
        f"\n{args.out}  {manifest['start_date']} .. {manifest['end_date']}  seed {manifest['seed']}"
    )
    for feed in FEEDS:
        print(
            f"  {feed:<17} {files[feed]:>4} files {rows[feed]:>13,} rows  "
            f"{manifest['expected'][feed]['distinct_good_keys']:>13,} distinct good keys"
        )
    print(
        f"  planted: {len(manifest['bad_rows'])} bad rows, {len(manifest['rejected_files'])} rejected files, "
        f"{len(manifest['duplicate_files'])} duplicate files, {len(manifest['corrections'])} corrections"
    )
    print(
        f"  collapse: {manifest['story']['collapse']['channel']} in {manifest['story']['collapse']['month']}"
    )
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
