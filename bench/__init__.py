"""Benchmarks whose printed figures back the README's size and speed claims."""
