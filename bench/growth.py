"""Growth: the same endpoints under the same load at a small and a large database (bench/load.py runs).

    .venv/bin/python bench/growth.py /tmp/servicehub-bench/run-.../load/10k /tmp/servicehub-bench/run-.../load/large

Reads the two ``summary.json`` files bench/load.py wrote and prints, per endpoint, the p50 and p95
latency ratio large / small and the throughput ratio small / large (> 1 = slower when large), and
whether the p50 ratio stays under the target (``--target``, default 1.5). Exits 1 when an endpoint
misses it or had errors, so bench/run_all.sh reports it. JSON on stdout, a Markdown table on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def load(path: Path) -> dict:
    data = json.loads((path / "summary.json").read_text())
    return {"tickets": data["tickets_in_db"], "rows": {r["endpoint"]: r for r in data["rows"]}}


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def compare(small: dict, large: dict, target: float) -> dict:
    rows = []
    for endpoint, s in small["rows"].items():
        big = large["rows"].get(endpoint)
        if big is None:
            continue
        p50 = ratio(big["p50_ms"], s["p50_ms"])
        rows.append(
            {
                "endpoint": endpoint,
                "p50_ms": [s["p50_ms"], big["p50_ms"]],
                "p95_ms": [s["p95_ms"], big["p95_ms"]],
                "rps": [s["rps"], big["rps"]],
                "p50_ratio": p50,
                "p95_ratio": ratio(big["p95_ms"], s["p95_ms"]),
                "rps_ratio_small_over_large": ratio(s["rps"], big["rps"]),
                "failures": [s["failures"], big["failures"]],
                "held": p50 is not None and p50 < target and not s["failures"] and not big["failures"],
            }
        )
    return {
        "tickets": [small["tickets"], large["tickets"]],
        "target_p50_ratio": target,
        "rows": rows,
        "held": bool(rows) and all(r["held"] for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("small", type=Path)
    parser.add_argument("large", type=Path)
    parser.add_argument("--target", type=float, default=1.5)
    args = parser.parse_args()
    result = compare(load(args.small), load(args.large), args.target)
    print(json.dumps(result, indent=2))
    t_small, t_large = result["tickets"]
    print(
        f"\n| endpoint | p50 ms {t_small:,} -> {t_large:,} | p50 ratio | p95 ratio | rps ratio (small/large) | held |",
        file=sys.stderr,
    )
    print("|---|---|---|---|---|---|", file=sys.stderr)
    for r in result["rows"]:
        print(
            f"| {r['endpoint']} | {r['p50_ms'][0]:.0f} -> {r['p50_ms'][1]:.0f} | {r['p50_ratio']} | "
            f"{r['p95_ratio']} | {r['rps_ratio_small_over_large']} | {'yes' if r['held'] else 'NO'} |",
            file=sys.stderr,
        )
    sys.exit(0 if result["held"] else 1)


if __name__ == "__main__":
    main()
