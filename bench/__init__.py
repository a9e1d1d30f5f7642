"""Benchmarks of sparkembed, their data generators and the reference implementations they
(and the tests) compare against. Run from the repository root: ``python -m bench.NAME``."""
