"""Peak memory of a whole process tree, sampled from /proc (psutil is not a dependency).

A sampler thread walks /proc every `interval` seconds, finds the root process
and all its descendants (dbt runs as a child of the Dagster process, DuckDB
inside both) and sums their resident set sizes. The samples keep their wall
clock time so that a stage's peak can be read from the window between two
Dagster events. RSS of processes sharing pages (libraries) is counted once
per process, so the sum slightly overstates the true footprint.
DirSampler does the same for the size of a directory (DuckDB's spill files).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        rest = stat[stat.rfind(b")") + 2 :].split()
        kids.setdefault(int(rest[1]), []).append(int(entry.name))
    return kids


def tree_pids(root: int) -> list[int]:
    kids = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> int:
    return sum(rss_bytes(p) for p in tree_pids(root))


@dataclass
class Sampler:
    """Samples the RSS of a process tree in a thread: `with Sampler(pid) as s: ...`."""

    root: int
    interval: float = 0.2
    samples: list[tuple[float, int]] = field(default_factory=list)  # (unix time, bytes)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def measure(self) -> int:
        return tree_rss(self.root)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), self.measure()))
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return max((b for _, b in self.samples), default=0) / 2**20

    def peak_between(self, start: float, end: float) -> float:
        """Peak RSS (MB) of the samples taken between two unix times."""
        inside = [b for t, b in self.samples if start <= t <= end]
        return max(inside, default=0) / 2**20


@dataclass
class DirSampler(Sampler):
    """Samples the bytes in a directory (DuckDB's spill files) and the disk's free bytes:
    `with DirSampler(path) as s: ...; s.peak_mb, s.min_free`."""

    root: Path
    interval: float = 2.0
    min_free: int | None = None

    def measure(self) -> int:
        free = shutil.disk_usage(self.root).free
        self.min_free = free if self.min_free is None else min(self.min_free, free)
        total = 0
        for f in self.root.rglob("*"):
            try:
                total += f.stat().st_size if f.is_file() else 0
            except FileNotFoundError:  # DuckDB removed it between listing and stat
                pass
        return total


@dataclass
class Measured:
    returncode: int
    wall_s: float
    peak_rss_mb: float
    started_at: float
    ended_at: float
    sampler: Sampler


def run_measured(
    cmd: list[str], env: dict[str, str], log_path: Path, cwd: Path | None = None
) -> Measured:
    """Run a command with its output in log_path; wall time and peak RSS of its process tree."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"\n$ {' '.join(cmd)}\n".encode())
        log.flush()
        started = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        with Sampler(proc.pid) as sampler:
            rc = proc.wait()
        wall = time.perf_counter() - t0
    return Measured(rc, wall, sampler.peak_mb, started, started + wall, sampler)
