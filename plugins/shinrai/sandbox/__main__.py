"""``python -m shinrai.sandbox``: serve the sandbox until interrupted."""

from __future__ import annotations

import argparse
import json
from datetime import date

from .faults import Faults
from .runner import DEFAULT_ANCHOR, DEFAULT_PORTS, serve
from .shapes import SHAPES


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m shinrai.sandbox", description=__doc__)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--anchor", type=date.fromisoformat, default=DEFAULT_ANCHOR)
    p.add_argument("--shape", default="default", choices=sorted(SHAPES),
                   help="serve the same organisation in another representation (its config: "
                        "plugins/shinrai/sandbox/shapes/<shape>.yaml)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--jira-port", type=int, default=DEFAULT_PORTS["jira"])
    p.add_argument("--notion-port", type=int, default=DEFAULT_PORTS["notion"])
    p.add_argument("--slack-port", type=int, default=DEFAULT_PORTS["slack"])
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--rate-limit", default="off", choices=("off", "published", "slack_non_marketplace"))
    p.add_argument("--malformed", action="store_true")
    p.add_argument("--rate-limit-speedup", default=None, metavar="JSON",
                   help='compress the emulated limits per server, e.g. \'{"slack": 60}\'')
    a = p.parse_args(argv)
    if a.anchor < DEFAULT_ANCHOR:
        p.error(f"--anchor {a.anchor.isoformat()} is before {DEFAULT_ANCHOR.isoformat()}: the sandbox's history is "
                "generated up to that day and only grows after it")
    faults = Faults(latency_ms=a.latency_ms, rate_limit=a.rate_limit, malformed=a.malformed,
                    rate_limit_speedup=json.loads(a.rate_limit_speedup) if a.rate_limit_speedup else {})
    serve(a.seed, a.scale, a.anchor, a.host, a.jira_port, a.notion_port, a.slack_port, faults, a.shape)


if __name__ == "__main__":
    main()
