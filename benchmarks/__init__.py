"""Scale benchmarks: `make bench` (see benchmarks/run.py and docs/benchmarks.md)."""
