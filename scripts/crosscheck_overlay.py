#!/usr/bin/env python3
"""Cross-check needmap's overlay against geopandas, and time both on the same files.

    bench-out/.venv/bin/python scripts/crosscheck_overlay.py [--geodata ../shared/geodata]
        [--out bench-out/overlay] [--repeat 5] [--no-build]

1. Builds and runs `cargo run --release --example overlay`, which writes the
   data zones, intermediate zones and wards exactly as needmap projected them
   (British National Grid, full precision) and needmap's pieces
   (`iz_x_wards.csv`, `dz_x_wards.csv`) and timing (`timing.json`).
2. Reads the same BNG files with geopandas, runs `geopandas.overlay(how=
   "intersection")` for IZ x wards and DZ x wards, and compares every piece's
   area with needmap's: relative error |a - b| / max(a, b) per piece, pieces
   present on one side only listed with their area.
3. Times geopandas on the W4 workload (DZ x wards overlay + population
   apportioned by area share + per-ward sum; median of --repeat runs, one
   thread), both as ../shared/bench/w4_overlay.py writes it and with each
   piece's area computed once, and reports the ratio of the faster of the two
   to needmap's median from the same run, on rayon's default pool and on one
   thread (the example times both).

The peer reads needmap's projected coordinates rather than reprojecting the
WGS84 files itself: pyproj without the OSTN15 grid differs from needmap's
OSTN15 by metres, which would swamp a 1e-6 comparison. Neither side's file
reading is timed; needmap's time includes validating both layers.

Recorded result (this machine, 2 cores, load 1.7, geopandas 1.2.0 / shapely
2.2.0, commit of this script): IZ x wards 3,452 pieces and DZ x wards 10,537
pieces on both sides, the same pairs; max relative error 5.1e-8 (IZ) and 6.0e-8
(DZ), both on pieces under 0.02 m2; 2.7e-11 and 6.1e-11 over pieces of at least
1 m2. Timing of the W4 workload in the same run: geopandas 660 ms (W4 as
written; 662 ms with areas once), needmap 21.9 ms on 2 threads (30.2x) and
40.1 ms on 1 thread (16.4x). Phases on 2 threads: validation + preparation
7.5 ms, pairs 12.5 ms. (Before the box trees: 143 ms on 2 threads, 5.1x.)

Writes `<out>/crosscheck.md` and prints it. Exit status 1 when a shared piece
differs by more than 1e-6 relative and more than 1e-6 m2 absolute.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import geopandas as gpd
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pieces_gpd(a, b):
    o = gpd.overlay(a, b, how="intersection", keep_geom_type=True)
    o["area"] = o.geometry.area
    o = o[o["area"] > 0]
    return {(r.code_1, r.code_2): r.area for r in o[["code_1", "code_2", "area"]].itertuples()}


def compare(name, ours, theirs):
    shared = set(ours) & set(theirs)
    only_ours = sorted(((k, ours[k]) for k in set(ours) - set(theirs)), key=lambda x: -x[1])
    only_theirs = sorted(((k, theirs[k]) for k in set(theirs) - set(ours)), key=lambda x: -x[1])
    rel = []
    for k in shared:
        a, b = ours[k], theirs[k]
        rel.append((abs(a - b) / max(a, b), abs(a - b), k, a, b))
    rel.sort(reverse=True)
    bad = [r for r in rel if r[0] > 1e-6 and r[1] > 1e-6]
    big = [r for r in rel if min(r[3], r[4]) >= 1.0]
    lines = [
        f"### {name}",
        f"- pieces: needmap {len(ours)}, geopandas {len(theirs)}, shared {len(shared)}",
        f"- max relative error over shared pieces: {rel[0][0]:.3e} (piece {rel[0][2]}, "
        f"{rel[0][3]:.6g} vs {rel[0][4]:.6g} m2)" if rel else "- no shared pieces",
        f"- max relative error over shared pieces of at least 1 m2: {big[0][0]:.3e}" if big else "",
        f"- shared pieces beyond 1e-6 relative and 1e-6 m2 absolute: {len(bad)}",
        f"- only in needmap: {len(only_ours)}"
        + (f" (largest {only_ours[0][1]:.3e} m2)" if only_ours else ""),
        f"- only in geopandas: {len(only_theirs)}"
        + (f" (largest {only_theirs[0][1]:.3e} m2)" if only_theirs else ""),
        "",
    ]
    return [l for l in lines if l != ""] + [""], bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--geodata", default=os.path.join(ROOT, "..", "shared", "geodata"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out", "overlay"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    env = dict(os.environ)
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "--example", "overlay"], cwd=ROOT, check=True, env=env)
    target = env.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    exe = os.path.join(target, "release", "examples", "overlay")
    subprocess.run([exe, a.geodata, a.out, str(a.repeat)], check=True, stdout=subprocess.DEVNULL)
    timing = json.load(open(os.path.join(a.out, "timing.json")))

    dz = gpd.read_file(os.path.join(a.out, "dz_bng.geojson")).set_crs(27700, allow_override=True)
    iz = gpd.read_file(os.path.join(a.out, "iz_bng.geojson")).set_crs(27700, allow_override=True)
    wd = gpd.read_file(os.path.join(a.out, "wards_bng.geojson")).set_crs(27700, allow_override=True)

    out = ["# needmap overlay vs geopandas", ""]
    failed = False
    for name, left, csv in (("IZ x wards", iz, "iz_x_wards.csv"), ("DZ x wards", dz, "dz_x_wards.csv")):
        ours_df = pd.read_csv(os.path.join(a.out, csv))
        ours = {(r.a, r.b): r.area_m2 for r in ours_df.itertuples()}
        theirs = pieces_gpd(left, wd)
        lines, bad = compare(name, ours, theirs)
        out += lines
        failed |= bool(bad)

    # Timing: the W4 workload on the same files, one run beside needmap's.
    simd = pd.read_csv(os.path.join(a.geodata, "simd2020v2_withinds.csv"), usecols=["Data_Zone", "Total_population"])
    z = dz.merge(simd, left_on="code", right_on="Data_Zone")
    z["zarea"] = z.geometry.area
    z = z[["code", "Total_population", "zarea", "geometry"]]
    w = wd.rename(columns={"code": "ward"})

    # The peer at its leanest: each piece's area computed once (W4's code
    # computes it three times, once for its area checksum).
    def run():
        o = gpd.overlay(z, w, how="intersection", keep_geom_type=True)
        ar = o.geometry.area
        keep = ar > 0
        o, ar = o[keep], ar[keep]
        wpop = (o["Total_population"] * (ar / o["zarea"])).groupby(o["ward"]).sum()
        return len(o), float(wpop.sum())

    # W4 as written in ../shared/bench/w4_overlay.py (same timed operation).
    def run_w4():
        o = gpd.overlay(z, w, how="intersection", keep_geom_type=True)
        o = o[o.geometry.area > 0]
        share = o.geometry.area / o["zarea"]
        wpop = (o["Total_population"] * share).groupby(o["ward"]).sum()
        return len(o), float(o.geometry.area.sum()) / 1e6, float(wpop.sum())

    def med(f):
        ts = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            r = f()
            ts.append((time.perf_counter() - t) * 1e3)
        return statistics.median(ts), min(ts), r

    gmed, gmin, (k, pop) = med(run)
    wmed, wmin, _ = med(run_w4)
    peer = min(gmed, wmed)
    one = timing["one_thread"]
    ph = timing["phases_median_ms"]
    out += [
        "### Timing: DZ x wards overlay + population apportioned (same files, same run)",
        f"- load: {os.getloadavg()[0]:.2f} (1-minute average, {os.cpu_count()} CPUs)",
        f"- geopandas.overlay, area once: median {gmed:.1f} ms of {a.repeat} (min {gmin:.1f}); pieces {k}, population {pop:.1f}",
        f"- geopandas.overlay, W4 as written: median {wmed:.1f} ms (min {wmin:.1f})",
        f"- needmap ({timing['threads']} threads): median {timing['median_ms']:.1f} ms (min {timing['min_ms']:.1f}); "
        f"pieces {timing['pieces']}, population {timing['pop_apportioned']:.1f}",
        f"- needmap (1 thread): median {one['median_ms']:.1f} ms (min {one['min_ms']:.1f})",
        f"- needmap phases ({timing['threads']} threads, median ms): validate + prepare {ph['validate_prepare']:.1f}, "
        f"pairs {ph['pairs']:.1f}, collect {ph['collect']:.2f}, apportion {ph['apportion']:.2f}",
        f"- ratio geopandas (faster of the two) / needmap: {peer / timing['median_ms']:.1f}x on "
        f"{timing['threads']} threads, {peer / one['median_ms']:.1f}x on 1 thread",
        "",
    ]
    text = "\n".join(out)
    open(os.path.join(a.out, "crosscheck.md"), "w").write(text)
    print(text)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
