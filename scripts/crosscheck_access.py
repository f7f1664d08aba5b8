#!/usr/bin/env python3
"""Cross-check needmap's 2SFCA and E2SFCA against PySAL `access` on the same inputs.

Seeded demand points (twenty of them out of reach), supply points and a travel-cost table (minutes, straight line x 1.3 at
30 km/h, pairs within 45 min) are written to a temporary folder; PySAL `access` computes
two_stage_fca (max_cost 30) and enhanced_two_stage_fca (its default steps 1 / 0.68 / 0.22 at
10 / 20 / 30); `needmap fca` computes the same from the same CSV files. Every score must agree
to 1e-9 relative, and both must leave the same demand points without a score.

Run with the benchmark venv (scripts/bench creates it; `pip install access` adds PySAL access):
    bench-out/.venv/bin/python scripts/crosscheck_access.py [--needmap target/release/needmap]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from access import Access


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--needmap", default=os.environ.get("NEEDMAP_BIN", "target/release/needmap"))
    ap.add_argument("--seed", type=int, default=20261123)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    nd, ns = 400, 60
    dxy = rng.uniform(0, 40_000, size=(nd, 2))
    dxy[:20] += 60_000  # twenty demand points out of reach of every supply
    sxy = rng.uniform(0, 40_000, size=(ns, 2))
    demand = pd.DataFrame({"id": [f"d{i}" for i in range(nd)], "value": rng.integers(300, 1200, nd).astype(float)})
    supply = pd.DataFrame({"id": [f"s{j}" for j in range(ns)], "value": rng.uniform(1, 50, ns)})
    dist = np.sqrt(((dxy[:, None, :] - sxy[None, :, :]) ** 2).sum(axis=2))
    minutes = dist / 1000 * 1.3 / 30 * 60
    oi, dj = np.nonzero(minutes < 45)
    costs = pd.DataFrame({"origin": demand.id.values[oi], "dest": supply.id.values[dj], "cost": minutes[oi, dj]})

    A = Access(demand_df=demand, demand_index="id", demand_value="value",
               supply_df=supply, supply_index="id", supply_value="value",
               cost_df=costs, cost_origin="origin", cost_dest="dest", cost_name="cost")
    two = A.two_stage_fca(name="two", max_cost=30)["two_value"]
    enh = A.enhanced_two_stage_fca(name="enh")["enh_value"]

    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        demand.to_csv(f"{tmp}/demand.csv", index=False)
        supply.to_csv(f"{tmp}/supply.csv", index=False)
        costs.to_csv(f"{tmp}/costs.csv", index=False, float_format="%.17g")
        runs = {"2SFCA": (["--max-cost-s", "30"], two), "E2SFCA": (["--decay", "step:10=1,20=0.68,30=0.22"], enh)}
        for label, (extra, ref) in runs.items():
            out = subprocess.run([a.needmap, "fca", "--demand", f"{tmp}/demand.csv", "--supply", f"{tmp}/supply.csv",
                                  "--costs", f"{tmp}/costs.csv", *extra], check=True, capture_output=True, text=True).stdout
            ours = pd.read_csv(pd.io.common.StringIO(out)).set_index("id")["access"]
            ref = ref.reindex(ours.index)
            both_nan = ours.isna() & ref.isna()
            rel = ((ours - ref).abs() / ref.abs().where(ref.abs() > 0, 1.0))[~both_nan]
            one_nan = int((ours.isna() ^ ref.isna()).sum())
            worst = float(rel.max()) if len(rel) else 0.0
            ok = one_nan == 0 and worst <= 1e-9
            failures += 0 if ok else 1
            print(f"{label}: {len(ours)} demand points, {int(ours.notna().sum())} scored, "
                  f"max relative difference {worst:.3e}, unscored mismatches {one_nan}: {'OK' if ok else 'MISMATCH'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
