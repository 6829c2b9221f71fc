"""Benchmarks, each run by a ``make bench-NAME`` target (see bench/README.md)."""
