"""Benchmarks (``make bench-engine``); results go to docs/benchmarks.md, never into unit tests."""
