#!/usr/bin/env python3
"""W1 report for scripts/bench: peer records (results.jsonl lines written by w1_pip.py during
this run) + needmap JSON lines -> markdown table, checksum checks.

Exit status: 0 ok, 1 needmap checksum MISMATCH, 2 unreadable input.
"""
import argparse
import json
import sys
import time

# Real DZ (dz2011_bng.geojson), first N points of points_5m.f64. 1 M is the README's figure
# (geopandas/shapely/duckdb/C bound agree); the others were computed with shapely 'within' on
# 2026-11-23 (no point lies on a boundary or in two zones, and the top zone is never tied).
KNOWN = {100_000: (78633, 5366), 1_000_000: (786858, 5366), 2_000_000: (1573450, 5366),
         5_000_000: (3932235, 5366)}
README_1M = {"matched": 786858, "top": 5366}
NEEDMAP_KEYS = ("workload", "peer", "threads", "size", "median_s", "min_s", "load_s", "matched", "top")


def fail(msg, code=2):
    print(f"bench: error: {msg}", file=sys.stderr)
    sys.exit(code)


def read_peers(path, size):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if r.get("workload") != "W1" or not str(r.get("size", "")).startswith(f"{size}pts/"):
                continue
            rows.append(r)
    return rows


def read_needmap(path):
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip()]
    js = [l for l in lines if l.startswith("{")]
    if len(js) != 1:
        fail(f"{path}: expected exactly one JSON line on needmap's stdout, got {len(js)} "
             f"(of {len(lines)} non-empty lines)")
    try:
        r = json.loads(js[0])
    except json.JSONDecodeError as e:
        fail(f"{path}: needmap printed invalid JSON ({e}): {js[0][:200]}")
    missing = [k for k in NEEDMAP_KEYS if k not in r]
    if missing:
        fail(f"{path}: needmap JSON lacks {', '.join(missing)}: {js[0][:200]}")
    return r


def peer_threads(r, nproc):
    if r.get("threads") is not None:
        return str(r["threads"])
    name = r["peer"]
    if "t=" in name:  # duckdb "... t=default" / "t=2"
        t = name.rsplit("t=", 1)[1]
        return f"{nproc} (default)" if t == "default" else t
    return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--repeat", type=int, required=True)
    ap.add_argument("--nproc", type=int, default=0)
    ap.add_argument("--peers", required=True, help="results.jsonl lines from this run")
    ap.add_argument("--out", required=True, help="markdown report path")
    ap.add_argument("needmap", nargs="*", help="files holding needmap's JSON line")
    a = ap.parse_args()

    peers = read_peers(a.peers, a.size)
    nm = [read_needmap(p) for p in a.needmap]
    for p, r in zip(a.needmap, nm):
        if r["workload"] != "W1" or int(r["size"]) != a.size:
            fail(f"{p}: needmap reports workload={r['workload']} size={r['size']}, expected W1 size={a.size}")

    gp = [r for r in peers if r["peer"].startswith("geopandas")]
    base = gp[-1] if gp else None
    if base is not None:
        ref, ref_name = {"matched": base["matched"], "top": base["top"]}, "geopandas"
    elif a.size in KNOWN:
        ref = {"matched": KNOWN[a.size][0], "top": KNOWN[a.size][1]}
        ref_name = f"known real-DZ figures for {a.size} points"
    else:
        ref, ref_name = None, None

    rows = []  # (peer, threads, median, matched, top)
    for r in peers:
        rows.append((r["peer"], peer_threads(r, a.nproc), float(r["median_s"]), r.get("matched"), r.get("top")))
    rows.sort(key=lambda x: (not x[0].startswith("geopandas"), x[2]))
    for r in nm:
        rows.append(("needmap bench-assign", str(r["threads"]), float(r["median_s"]), r["matched"], r["top"]))

    tag = peers[0]["size"].split("/", 1)[1] if peers else "real DZ"
    lines = [
        f"## W1 point-in-polygon + count per zone, {a.size:,} points, real data zones ({tag})",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, {a.nproc} cores, median of {a.repeat} runs, index build included. "
        "Ratio = geopandas median / peer median (higher is faster). Measured in one run: compare ratios, not seconds.",
        "",
        "| peer | threads | median s | ratio | matched | top |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    bmed = float(base["median_s"]) if base else None
    for name, th, med, matched, top in rows:
        ratio = f"{bmed / med:.2f}x" if bmed and med > 0 else "n/a"
        lines.append(f"| {name} | {th} | {med:.3f} | {ratio} | {matched} | {top} |")
    if nm:
        lines.append("")
        lines.append("needmap: " + "; ".join(
            f"--threads {r['threads']}: min {float(r['min_s']):.3f} s, load_s {float(r['load_s']):.3f}" for r in nm))

    notes, mismatch = [], False
    if ref is None:
        notes.append(f"NOTE no checksum reference (geopandas not run, no known figures for size {a.size}): matched/top unchecked")
    else:
        if base is not None and a.size == 1_000_000 and (ref["matched"], ref["top"]) != (README_1M["matched"], README_1M["top"]):
            notes.append(f"WARN geopandas gives matched {ref['matched']} top {ref['top']}, README says "
                         f"{README_1M['matched']} / {README_1M['top']}: data differ from the reference run")
        for name, th, med, matched, top in rows:
            if name.startswith("needmap") or (base is not None and name == base["peer"]):
                continue
            if (matched, top) != (ref["matched"], ref["top"]):
                notes.append(f"WARN peer '{name}' matched {matched} top {top} vs {ref_name} {ref['matched']} / {ref['top']}")
        for r in nm:
            if (int(r["matched"]), int(r["top"])) != (ref["matched"], ref["top"]):
                mismatch = True
                notes.append(f"MISMATCH needmap --threads {r['threads']}: matched {r['matched']} top {r['top']}, "
                             f"{ref_name}: matched {ref['matched']} top {ref['top']}")
        if nm and not mismatch:
            notes.append(f"OK needmap matched {ref['matched']} and top {ref['top']} agree with {ref_name}")
    if notes:
        lines.append("")
        lines.extend(notes)

    text = "\n".join(lines) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print()
    print(text, end="")
    print(f"(written to {a.out})")
    sys.exit(1 if mismatch else 0)


if __name__ == "__main__":
    main()
