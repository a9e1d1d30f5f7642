"""Per-step timing and the one-line summary every subcommand prints."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager


class StageTimer:
    """Times named steps; ``summary`` renders counts and seconds on one line."""

    def __init__(self, stage: str, quiet: bool = False):
        self.stage = stage
        self.quiet = quiet
        self.steps: list[tuple[str, float]] = []
        self.start = time.perf_counter()

    @contextmanager
    def step(self, name: str):
        if not self.quiet:
            print(f"[{self.stage}] {name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.steps.append((name, time.perf_counter() - t0))

    def summary(self, counts: dict[str, object]) -> str:
        parts = [f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in counts.items()]
        timing = " ".join(f"{name} {sec:.1f}s" for name, sec in self.steps)
        total = time.perf_counter() - self.start
        return f"{self.stage}: {', '.join(parts)} | {timing} | total {total:.1f}s"
