"""`make bench`: every benchmark, one after another, with the figures the README quotes.

    python -m benchmarks [classify|pipeline|search|calibrate ...] [--postgres URL ...]

Options go on to the benchmarks (each reads those it knows); `search --postgres URL` also
measures PostgreSQL.
"""

from __future__ import annotations

import sys

from benchmarks import (
    bench_bot,
    bench_classify,
    bench_email,
    bench_pipeline,
    bench_privacy,
    bench_scale,
    bench_search,
    bench_sla,
    bench_webhooks,
)
from benchmarks._machine import loop_ms


def calibrate() -> dict[str, float]:
    """A fixed pure-Python loop, so figures from a slower or busier machine can be read
    against this one."""
    ms = loop_ms()
    print(f"calibration: 2M-iteration Python loop in {ms:.0f} ms (lower is faster)")
    return {"calibration_ms": ms}


BENCHES = {"calibrate": calibrate, "classify": bench_classify.main,
           "pipeline": bench_pipeline.main, "email": bench_email.main,
           "webhooks": bench_webhooks.main, "sla": bench_sla.main,
           "scale": bench_scale.main, "privacy": bench_privacy.main,
           "search": bench_search.main, "bot": bench_bot.main}

if __name__ == "__main__":
    chosen = [a for a in sys.argv[1:] if a in BENCHES] or list(BENCHES)
    sys.argv = sys.argv[:1] + [a for a in sys.argv[1:] if a not in BENCHES]
    for name in chosen:
        BENCHES[name]()
