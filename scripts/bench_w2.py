#!/usr/bin/env python3
"""W2 report: nearest of 500 sites for N points, needmap beside the peers of one run.

Reads the peer records w2_nearest.py appended during this run and needmap's JSON lines;
prints a markdown table with ratio = scipy cKDTree (1 thread) median / peer median, and
checks that needmap's sum of distances and busiest site equal the peers'.
    scripts/bench_w2.py --peers RUN/peers_w2.jsonl --size N --out REPORT.md NEEDMAP_JSON...
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("needmap", nargs="+")
    a = ap.parse_args()
    want = f"{a.size}->500"
    peers = [json.loads(l) for l in open(a.peers) if l.strip()]
    peers = [p for p in peers if p.get("workload") == "W2" and p.get("size") == want]
    ref = next((p for p in peers if p["peer"] == "scipy cKDTree (1 thread)"), None)
    if ref is None:
        sys.exit("bench_w2: no scipy cKDTree record in this run")
    rows = []
    for p in peers:
        rows.append((p["peer"], str(p.get("threads", "1")), p["median_s"], p.get("sum_km"), p.get("busiest")))
    failures = 0
    for f in a.needmap:
        n = json.loads(open(f).read().strip().splitlines()[-1])
        rows.append(("needmap bench-nearest", str(n["threads"]), n["median_s"], n["sum_km"], n["busiest"]))
        if abs(n["sum_km"] - ref["sum_km"]) > 1e-3 or n["busiest"] != ref["busiest"]:
            print(f"MISMATCH needmap threads {n['threads']}: sum_km {n['sum_km']} busiest {n['busiest']}, "
                  f"cKDTree: {ref['sum_km']} {ref['busiest']}")
            failures += 1
    lines = [f"## W2 nearest of 500 sites, {a.size:,} points (ratio = cKDTree 1-thread median / peer median)", "",
             "| peer | threads | median s | ratio | sum_km | busiest |", "|---|---:|---:|---:|---:|---:|"]
    for peer, t, med, s, b in rows:
        lines.append(f"| {peer} | {t} | {med:.3f} | {ref['median_s'] / med:.2f}x | {s} | {b} |")
    text = "\n".join(lines)
    print(text)
    open(a.out, "w").write(text + "\n")
    if failures:
        sys.exit(1)
    print(f"OK needmap sum_km and busiest agree with cKDTree ({ref['sum_km']}, {ref['busiest']})")


if __name__ == "__main__":
    main()
