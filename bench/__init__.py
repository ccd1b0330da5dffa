"""Benchmarks of Baton."""
