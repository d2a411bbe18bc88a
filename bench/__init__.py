"""Benchmarks: each module's `run()` measures, prints and writes bench/results/<name>.json."""
