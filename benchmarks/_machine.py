"""How fast this machine is right now, so each figure can be read beside it: this VM's speed
drifts by up to a factor of two from one minute to the next."""

from __future__ import annotations

import time


def loop_ms(rounds: int = 5) -> float:
    """Best time of a fixed pure-Python loop of 2M iterations, in milliseconds."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i % 7
        best = min(best, time.perf_counter() - started)
    return best * 1000
