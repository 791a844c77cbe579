"""Benchmarks against the reference implementations (`make bench` → bench/results.json)."""
