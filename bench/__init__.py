"""Benchmarks: each prints JSON with its figures, the last line being one JSON object."""
