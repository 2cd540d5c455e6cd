#!/usr/bin/env python3
"""Turns parse_bench JSON output (--benchmark_out=FILE --benchmark_out_format=json)
into the markdown tables of bench/RESULTS.md: msgs/s and MB/s per parser, and
sipparse's ratio to sofia-sip and oSIP2. With repetitions it uses the median
aggregate; otherwise the single run.

    results_table.py parse_bench.json
"""
import json
import sys

PARSERS = ["sipparse", "sipparse_strict", "sofia", "osip2"]


def load(path):
    doc = json.load(open(path))
    runs = {}
    for b in doc["benchmarks"]:
        if b.get("error_occurred"):
            runs[b["run_name"]] = None
            continue
        kind = b.get("run_type", "iteration")
        if kind == "aggregate" and b.get("aggregate_name") != "median":
            continue
        # Prefer the median aggregate over single iterations of the same name.
        if kind == "iteration" and b["run_name"] in runs:
            continue
        runs[b["run_name"]] = b
    table = {}  # message -> parser -> (msgs/s, MB/s)
    for name, b in runs.items():
        _, parser, msg = name.split("/", 2)
        table.setdefault(msg, {})[parser] = (
            None if b is None else (b["items_per_second"], b["bytes_per_second"] / 1e6))
    return table


def fmt_rate(row, parser):
    if parser not in row:
        return "not run"
    v = row[parser]
    return "failed" if v is None else f"{v[0] / 1e3:,.0f} k"


def main():
    table = load(sys.argv[1])
    msgs = ["corpus"] + sorted(m for m in table if m != "corpus")

    print("Whole corpus, round-robin (median):\n")
    print("| parser | msgs/s | MB/s | ratio to sofia-sip | ratio to oSIP2 |")
    print("|---|---:|---:|---:|---:|")
    row = table["corpus"]
    for p in PARSERS:
        v = row.get(p)
        if v is None:
            print(f"| {p} | {'failed' if p in row else 'not run'} | | | |")
            continue
        r_sofia = v[0] / row["sofia"][0] if row.get("sofia") else float("nan")
        r_osip = v[0] / row["osip2"][0] if row.get("osip2") else float("nan")
        print(f"| {p} | {v[0]:,.0f} | {v[1]:,.0f} | {r_sofia:.2f}× | {r_osip:.2f}× |")

    print("\nPer message type (msgs/s, median; ratio = sipparse / other):\n")
    print("| message | bytes | sipparse | sipparse_strict | sofia-sip | oSIP2 "
          "| sipparse ÷ sofia | sipparse ÷ oSIP2 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for m in msgs:
        row = table[m]
        sp, so, os_ = row.get("sipparse"), row.get("sofia"), row.get("osip2")
        size = round(sp[1] * 1e6 / sp[0]) if sp else ""
        if m == "corpus":
            size = f"{size} avg" if sp else ""
        cells = [fmt_rate(row, p) for p in PARSERS]
        r1 = f"{sp[0] / so[0]:.2f}×" if sp and so else ""
        r2 = f"{sp[0] / os_[0]:.2f}×" if sp and os_ else ""
        print(f"| {m} | {size} | " + " | ".join(cells) + f" | {r1} | {r2} |")


if __name__ == "__main__":
    main()
