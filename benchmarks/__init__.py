"""Benchmarks: commands that print figures; not tests, nothing asserts on speed."""
