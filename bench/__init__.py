"""Benchmarks with their own runner: not part of the test run."""
