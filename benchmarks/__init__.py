"""Benchmarks: ``make bench`` (all) or ``make bench ARGS="-k diary"`` (a subset)."""
