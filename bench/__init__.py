"""Kedai benchmarks (not tests): ``python -m bench`` runs them all into RESULTS.md."""
