"""Benchmark of the whole pipeline, phase by phase (see bench/README.md)."""
