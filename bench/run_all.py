"""`make bench`: every benchmark, each printing its numbers beside a baseline measured in the same run.

BENCH_SCALES (default 2,50,50/2,200; `50/2` is 50 developers replicated from a 2-developer seed) picks the
extraction scales; the rate-limited runs take about (requests - 100) / 1.67 s each: roughly 0 s, 2 min,
2.5 min and 12 min.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    scales = os.environ.get("BENCH_SCALES", "2,50,50/2,200")
    benches = [[sys.executable, str(HERE / "bench_extract.py"), "--scales", scales]]
    for extra in sorted(HERE.glob("bench_*.py")):
        if extra.name != "bench_extract.py":
            benches.append([sys.executable, str(extra)])
    for argv in benches:
        print(f"\n=== {Path(argv[1]).name}", flush=True)
        code = subprocess.call(argv)
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
