#!/usr/bin/env python3
"""W6: write the 6,976 data zones (British National Grid) to a GeoPackage.

needmap (`needmap bench-export`, the writer `export` uses) against geopandas
with pyogrio, on the same file, in one run; reported as ratios. needmap's file
is then read back with geopandas as the check: the same rows, the same total
area, EPSG:27700.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import geopandas as gpd


def remove(path):
    for ext in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + ext)
        except FileNotFoundError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zones", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    gdf = gpd.read_file(a.zones, engine="pyogrio")
    rows = []
    for label, kw in (
        ("geopandas + pyogrio (GDAL defaults: R-tree spatial index)", {}),
        ("geopandas + pyogrio, SPATIAL_INDEX=NO", {"SPATIAL_INDEX": "NO"}),
    ):
        path = os.path.join(a.work, "peer.gpkg")
        times = []
        for _ in range(a.repeat):
            remove(path)
            t = time.perf_counter()
            gdf.to_file(path, driver="GPKG", engine="pyogrio", layer="zones", **kw)
            times.append(time.perf_counter() - t)
        rows.append((label, statistics.median(times), min(times), os.path.getsize(path)))
    nm_path = os.path.join(a.work, "needmap.gpkg")
    out = subprocess.run(
        [a.bin, "bench-export", "--zones", a.zones, "--out", nm_path, "--repeat", str(a.repeat)],
        check=True, capture_output=True, text=True,
    ).stdout
    nm = json.loads(out.strip().splitlines()[-1])
    rows.append(
        ("needmap (synchronous=FULL, rollback journal; no spatial index)", nm["median_s"], nm["min_s"], nm["bytes"])
    )
    back = gpd.read_file(nm_path, layer="zones", engine="pyogrio")
    area_ref = gdf.geometry.area.sum()
    area_nm = back.geometry.area.sum()
    checks = {
        "rows": (len(back), len(gdf)),
        "epsg": back.crs.to_epsg() if back.crs else None,
        "area_rel_diff": abs(area_nm - area_ref) / area_ref,
    }
    ok = checks["rows"][0] == checks["rows"][1] and checks["epsg"] == 27700 and checks["area_rel_diff"] < 1e-9
    base = rows[0][1]
    lines = [
        f"# W6: {len(gdf):,} zones to a GeoPackage ({a.repeat} runs, medians, one run of all peers)",
        "",
        "| writer | median s | min s | file MB | time vs geopandas |",
        "|---|---|---|---|---|",
    ]
    for label, med, mn, size in rows:
        lines.append(f"| {label} | {med:.3f} | {mn:.3f} | {size / 1e6:.1f} | {med / base:.2f} |")
    lines += [
        "",
        f"Check (needmap's file read by geopandas): {checks['rows'][0]:,} rows of {checks['rows'][1]:,}, "
        f"EPSG:{checks['epsg']}, total area relative difference {checks['area_rel_diff']:.1e}: "
        + ("OK" if ok else "MISMATCH"),
    ]
    text = "\n".join(lines) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text)
    if not ok:
        raise SystemExit("MISMATCH: needmap's GeoPackage differs from the zones")


if __name__ == "__main__":
    main()
