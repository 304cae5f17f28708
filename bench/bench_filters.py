"""Benchmark of Lambda event filtering (streamkit.filters): matches per second.

    .venv/bin/python bench/bench_filters.py [--matches 200000]

The local Lambda service matches every record it reads against a mapping's filters, so matching
must stay cheap. Figures, each over AWS's three SAM sample records (INSERT, MODIFY, REMOVE) in turn:
- a 3-key pattern (eventName list, eventSource, a prefix on a NewImage attribute);
- the TTL pattern (userIdentity type and principalId; records without userIdentity);
- five filters OR-ed with matches_any, none matching (the worst case: all five are tried);
- parse_pattern itself (a mapping is parsed once, when it is created or updated).
Target: >= 100,000 matches/s for the 3-key pattern.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from streamkit.events import load_sample_event
from streamkit.filters import matches, matches_any, parse_pattern, validate_filter_criteria

TARGET = 100_000

THREE_KEYS = {
    "eventName": ["INSERT", "MODIFY"],
    "eventSource": ["aws:dynamodb"],
    "dynamodb": {"NewImage": {"Message": {"S": [{"prefix": "New"}]}}},
}
TTL = {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}
FIVE = {
    "Filters": [
        {"Pattern": json.dumps({"eventName": ["NONE"]})},
        {"Pattern": json.dumps({"dynamodb": {"Keys": {"Id": {"N": ["0"]}}}})},
        {"Pattern": json.dumps({"dynamodb": {"SizeBytes": [{"numeric": [">", 1000]}]}})},
        {"Pattern": json.dumps({"dynamodb": {"NewImage": {"Message": {"S": [{"suffix": "?"}]}}}})},
        {"Pattern": json.dumps(TTL)},
    ]
}


def rate(label: str, n: int, call) -> float:
    records = load_sample_event("sam-dynamodb-update")["Records"]
    batch = (records * (n // len(records) + 1))[:n]
    start = time.perf_counter()
    hits = sum(1 for record in batch if call(record))
    seconds = time.perf_counter() - start
    per_second = n / seconds
    print(f"{label:<38} {per_second:>12,.0f} matches/s  ({hits:,} of {n:,} matched)")
    return per_second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=200_000)
    n = parser.parse_args().matches

    three = parse_pattern(THREE_KEYS)
    ttl = parse_pattern(TTL)
    five = validate_filter_criteria(FIVE)
    print(f"Python {sys.version.split()[0]}, {n:,} matches per figure")
    three_rate = rate("3-key pattern (matches)", n, lambda r: matches(three, r))
    rate("TTL pattern (matches)", n, lambda r: matches(ttl, r))
    rate("5 filters, none match (matches_any)", n, lambda r: matches_any(five, r))

    text = json.dumps(THREE_KEYS)
    runs = max(1, n // 20)
    start = time.perf_counter()
    for _ in range(runs):
        parse_pattern(text)
    print(
        f"{'parse_pattern (3-key, JSON text)':<38} {runs / (time.perf_counter() - start):>12,.0f} parses/s"
    )

    met = three_rate >= TARGET
    print(f"target met: {'yes' if met else 'NO'} (3-key pattern >= {TARGET:,} matches/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
